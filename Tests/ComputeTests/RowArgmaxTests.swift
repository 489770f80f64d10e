@testable import Compute
import Testing

/// The LM head's argmax found while its output is written (`RowArgmax`) must be exactly what a
/// scan of the finished row gives: the first largest value, NaNs skipped.
@Suite struct RowArgmaxTests {
    /// The first index of the largest non-NaN value; 0 when there is none.
    static func scan(_ row: [Float]) -> Int {
        var best = -1
        for (i, v) in row.enumerated() where !v.isNaN && (best < 0 || v > row[best]) { best = i }
        return max(best, 0)
    }

    @Test func piecesGiveTheScansAnswer() {
        let rows: [[Float]] = [
            [1, 5, 2, 5, 0, 5],                          // a tie inside a piece and across slots: first wins
            [.nan, -1, .nan, 3, .nan, 3],                // NaNs skipped
            [-.infinity, -.infinity, .nan, .nan, -.infinity, .nan],  // only -inf: the first of them
            [.nan, .nan, .nan, .nan, .nan, .nan],        // only NaN: 0, as sl_argmax_f32
            [0, -0.0, 0, 0, 0, 0],                       // +0 and -0 compare equal: the first
        ]
        // Pieces [0, 2) [2, 3) in slot 0, [3, 6) in slot 1, recorded out of order.
        let argmax = RowArgmax(slots: 2, rows: rows.count)
        for (r, row) in rows.enumerated() {
            row.withUnsafeBufferPointer { p in
                argmax.record(slot: 1, row: r, values: p.baseAddress! + 3, count: 3, firstColumn: 3)
                argmax.record(slot: 0, row: r, values: p.baseAddress! + 2, count: 1, firstColumn: 2)
                argmax.record(slot: 0, row: r, values: p.baseAddress!, count: 2, firstColumn: 0)
            }
        }
        #expect(argmax.reduce() == rows.map(Self.scan))
        #expect(argmax.reduce() == [1, 3, 0, 0, 0])
    }

    /// A Q8_0 head of 3,000 rows (guided chunks, each cut into 512-row pieces) on 1-3 threads, for
    /// one and three activation rows: the argmax equals a scan of the logits, also when another
    /// row's weights copy the winner's (an exact tie, before or after it) or are NaN.
    @Test(arguments: [1, 3])
    func quantizedHeadArgmaxMatchesAScan(m: Int) {
        var rng = QuantRandom(seed: 4242 + UInt64(m))
        let rows = 3000, cols = 64, rowBytes = 2 * 34
        var bytes = randomWeights(.q8_0, rows: rows, cols: cols, &rng).bytes
        for i in stride(from: 0, to: bytes.count, by: 34) { for k in (i + 2)..<(i + 34) where bytes[k] == 0x80 { bytes[k] = 0x81 } }
        let x = Tensor(shape: [m, cols], values: (0..<(m * cols)).map { _ in rng.float() })
        func head(_ bytes: [UInt8]) -> QuantizedLinear {
            QuantizedLinear(weight: QuantizedMatrix(type: .q8_0, rows: rows, cols: cols, copying: bytes).repackedForDecode())
        }
        func check(_ bytes: [UInt8], _ label: String) -> [Int] {
            let linear = head(bytes)
            #expect(linear.weight.layout == .interleaved8)
            var answers: [[Int]] = []
            for threads in [1, 2, 3] {
                let (logits, argmax) = linear.withRowArgmax(x, pool: ThreadPool(threads: threads))
                let scanned = (0..<m).map { Self.scan(Array(UnsafeBufferPointer(start: logits.row($0), count: rows))) }
                #expect(argmax == scanned, "\(label), threads=\(threads)")
                answers.append(scanned)
            }
            return answers[0]
        }
        let winners = check(bytes, "random")
        // Row 0's winner copied to a later row, then to an earlier one (past any chunk edge).
        let w = winners[0]
        var later = bytes, earlier = bytes
        let after = w < rows - 1 ? rows - 1 : 0, before = w > 0 ? 1 : rows - 1
        later.replaceSubrange(after * rowBytes..<(after + 1) * rowBytes, with: bytes[w * rowBytes..<(w + 1) * rowBytes])
        earlier.replaceSubrange(before * rowBytes..<(before + 1) * rowBytes, with: bytes[w * rowBytes..<(w + 1) * rowBytes])
        #expect(check(later, "tie after the winner")[0] == min(w, after))
        #expect(check(earlier, "tie before the winner")[0] == min(w, before))
        // The winner's first block scale set to NaN: its logit is NaN and the next best wins.
        var nan = bytes
        nan.replaceSubrange(w * rowBytes..<(w * rowBytes + 2), with: [0x00, 0x7E])  // f16 NaN
        #expect(check(nan, "NaN winner")[0] != w)
    }
}
