import ShardlineKernels

/// Quantized projections of one input run as a single pool job, outputs side by side.
///
/// x is quantized once per activation format the weights take (Q4_0/Q5_0/Q8_0 share one, the
/// K types another), and every part's weight rows go into one queue of claimed chunks. A
/// Gemma layer's q/k/v then cost one dispatch, one join and one quantization instead of
/// three: at batch-1 decode the joins, not the kernels, were where the second thread idled.
enum QuantizedProjections {
    /// One claimable piece of work: weight rows lo..<hi of one part.
    private struct Chunk {
        let type: Int32
        let weights: UnsafeRawPointer
        let repacked: Bool
        let activations: UnsafeRawPointer
        /// First output column of the part.
        let column: Int
        let bias: UnsafeMutablePointer<Float>?
        let lo: Int, hi: Int
    }

    /// Part i writes columns [Σ_{j<i} out_j, Σ_{j≤i} out_j) of `out`, a [m, Σ out] tensor.
    static func forward(_ parts: [QuantizedLinear], _ x: Tensor, into out: Tensor, pool: ThreadPool) {
        precondition(!parts.isEmpty, "QuantizedProjections: no parts")
        let k = parts[0].inFeatures, m = x.rowCount
        precondition(x.rowLength == k && parts.allSatisfy { $0.inFeatures == k },
                     "QuantizedLinear: input rows of \(x.rowLength), expected \(parts.map(\.inFeatures))")
        let width = parts.reduce(0) { $0 + $1.outFeatures }
        precondition(out.count == m * width, "QuantizedLinear: output \(out.shape) for \(m)×\(width)")
        guard m > 0, width > 0 else { return }

        // One quantized copy of x per activation format, in parallel for prefill-sized batches.
        var kinds: [Int32] = [], buffers: [UnsafeMutableRawPointer] = []
        defer { for b in buffers { b.deallocate() } }
        let xp = x.data
        func activations(for type: Int32) -> UnsafeRawPointer {
            let kind = sl_quant_act_kind(type)
            if let i = kinds.firstIndex(of: kind) { return UnsafeRawPointer(buffers[i]) }
            let rowBytes = sl_quant_act_row_bytes(type, k)
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(m * rowBytes, 1), alignment: 64)
            kinds.append(kind)
            buffers.append(buffer)
            pool.parallelFor(m, minChunk: 16) { rows in
                for r in rows { sl_quantize_act_row(type, xp + r * k, buffer + r * rowBytes, k) }
            }
            return UnsafeRawPointer(buffer)
        }

        // Guided chunks: each takes 1/(2T) of the rows still unassigned over all parts, so the
        // first claims are large and the last are small. With equal chunks (4 per thread) the
        // join waited on average half a chunk: 2.7 MB of the 178 MB head at batch-1 decode.
        // Edges fall on multiples of 8 rows, the batched kernels' tile height; a chunk spans
        // one part and holds at least 16 rows and 32 KB of weights.
        let threads = pool.threadCount
        var chunks: [Chunk] = []
        var column = 0, unassigned = width
        for part in parts {
            let n = part.outFeatures, type = Int32(part.weight.type.rawValue)
            let act = activations(for: type)
            let rowBytes = max(1, sl_qtype_row_bytes(type, k))
            let minRows = (max(16, (32 << 10) / rowBytes) + 7) / 8 * 8
            var lo = 0
            while lo < n {
                let want = threads == 1 ? n : max(minRows, unassigned / (2 * threads))
                var hi = min(n, (lo + want + 7) / 8 * 8)
                if n - hi < minRows { hi = n }  // no sliver of a chunk at the part's end
                chunks.append(Chunk(type: type, weights: part.weight.bytes.baseAddress!, repacked: part.weight.layout == .interleaved8,
                                    activations: act, column: column, bias: part.bias?.data, lo: lo, hi: hi))
                unassigned -= hi - lo
                lo = hi
            }
            column += n
        }
        pool.willRead(parts.map { WeightRegion(address: Int(bitPattern: $0.weight.bytes.baseAddress), bytes: $0.weight.bytes.count) })
        let op = out.data
        pool.run(chunks: chunks.count) { c in
            let chunk = chunks[c], y = op + chunk.column
            if chunk.repacked {
                sl_quant_x8_matmul(chunk.type, chunk.weights, k, chunk.lo, chunk.hi, chunk.activations, m, y, width)
            } else {
                sl_quant_matmul(chunk.type, chunk.weights, k, chunk.lo, chunk.hi, chunk.activations, m, y, width)
            }
            if let bias = chunk.bias {
                for r in 0..<m {
                    let row = y + r * width
                    for j in chunk.lo..<chunk.hi { row[j] += bias[j] }
                }
            }
        }
    }
}
