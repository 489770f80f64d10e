import ShardlineKernels

/// Each output row's argmax, found piece by piece by the threads that write the row: greedy
/// sampling's token without reading the row back. For the LM head that row is Gemma's 1 MB of
/// logits, written over the 5 ms the head streams its 178 MB of weights, so long evicted from
/// every cache when the sampler used to scan it (60-100 us a token, about 1%).
///
/// The answer is `sl_argmax_f32`'s on the whole row: the first index of the largest value,
/// NaNs skipped, 0 when every value is NaN, whatever order pieces come in. Pieces are recorded
/// per (slot, row), each slot by one thread at a time.
final class RowArgmax: @unchecked Sendable {  // slots are disjoint per writer
    let slots: Int, rows: Int
    private let values: UnsafeMutablePointer<Float>
    /// -1 while a slot has seen no non-NaN value of the row.
    private let indices: UnsafeMutablePointer<Int>

    init(slots: Int, rows: Int) {
        self.slots = slots
        self.rows = rows
        values = .allocate(capacity: max(slots * rows, 1))
        indices = .allocate(capacity: max(slots * rows, 1))
        indices.initialize(repeating: -1, count: max(slots * rows, 1))
    }

    deinit {
        values.deallocate()
        indices.deallocate()
    }

    /// Columns firstColumn..<firstColumn+count of `row`, at `values` (in cache: just written).
    func record(slot: Int, row: Int, values piece: UnsafePointer<Float>, count: Int, firstColumn: Int) {
        guard count > 0 else { return }
        let i = sl_argmax_f32(piece, count), v = piece[i]
        guard !v.isNaN else { return }
        let s = slot * rows + row
        if Self.better(v, firstColumn + i, than: values[s], indices[s]) {
            values[s] = v
            indices[s] = firstColumn + i
        }
    }

    /// Each row's argmax over everything recorded.
    func reduce() -> [Int] {
        (0..<rows).map { row in
            var best = -1, value = -Float.infinity
            for slot in 0..<slots {
                let s = slot * rows + row
                if indices[s] >= 0 && Self.better(values[s], indices[s], than: value, best) {
                    best = indices[s]
                    value = values[s]
                }
            }
            return max(best, 0)
        }
    }

    /// Larger, or as large (+0 and -0 too) and earlier, than the best so far (none: index -1).
    private static func better(_ v: Float, _ i: Int, than best: Float, _ at: Int) -> Bool {
        at < 0 || v > best || (v == best && i < at)
    }
}
