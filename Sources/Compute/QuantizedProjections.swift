import Synchronization
import ShardlineKernels

/// Quantized projections of one input run as a single pool job, outputs side by side.
///
/// x is quantized once per activation format the weights take (Q4_0/Q5_0/Q8_0 share one, the
/// K types another), and every part's weight rows go into one queue of claimed chunks. A
/// Gemma layer's q/k/v then cost one dispatch, one join and one quantization instead of
/// three: at batch-1 decode the joins, not the kernels, were where the second thread idled.
///
/// Everything that does not depend on x (the parts' kernels and pointers, the chunk list, the
/// regions the prefetcher is told about) is worked out once, not per call: rebuilt per call it
/// cost 3.4 us of the engine thread's serial time per projection, 0.26 ms of a 6 ms token.
final class QuantizedProjections: @unchecked Sendable {  // immutable but for the locked chunk cache
    typealias Chunk = ProjectionChunks.Chunk

    private struct Part {
        let type: Int32
        let weights: UnsafeRawPointer
        let repacked: Bool
        let bias: UnsafeMutablePointer<Float>?
        let rows: Int
        /// First output column of the part.
        let column: Int
        /// Which quantized copy of x the part reads.
        let activation: Int
    }

    let inFeatures: Int
    /// Σ of the parts' output features.
    let width: Int
    /// Keep the parts' bytes alive: `parts` points into them.
    private let weights: [QuantizedMatrix]
    private let biases: [Tensor?]
    private let parts: [Part]
    /// One weight type per activation format, each format's bytes per row and offset in a row of all formats.
    private let activationTypes: [Int32], activationRowBytes: [Int], activationOffsets: [Int]
    private let activationBytesPerRow: Int
    /// What the pool's prefetcher is told this job reads (built once, so its history compares by identity).
    let regions: [WeightRegion]
    private let chunkCache = Mutex<(threads: Int, chunks: [Chunk])?>(nil)

    /// Part i writes columns [Σ_{j<i} out_j, Σ_{j≤i} out_j) of the output.
    init(_ layers: [(weight: QuantizedMatrix, bias: Tensor?)]) {
        precondition(!layers.isEmpty, "QuantizedProjections: no parts")
        let k = layers[0].weight.cols
        precondition(layers.allSatisfy { $0.weight.cols == k }, "QuantizedProjections: parts of \(layers.map(\.weight.cols)) inputs")
        inFeatures = k
        weights = layers.map(\.weight)
        biases = layers.map(\.bias)
        var kinds: [Int32] = [], types: [Int32] = [], rowBytes: [Int] = [], offsets: [Int] = [], perRow = 0
        var parts: [Part] = [], column = 0
        for (w, bias) in layers {
            let type = Int32(w.type.rawValue), kind = sl_quant_act_kind(type)
            if !kinds.contains(kind) {
                kinds.append(kind)
                types.append(type)
                offsets.append(perRow)
                rowBytes.append(sl_quant_act_row_bytes(type, k))
                perRow = (perRow + rowBytes.last! + 63) / 64 * 64  // each format's copy starts 64-byte aligned
            }
            parts.append(Part(type: type, weights: w.bytes.baseAddress!, repacked: w.layout == .interleaved8, bias: bias?.data,
                              rows: w.rows, column: column, activation: kinds.firstIndex(of: kind)!))
            column += w.rows
        }
        self.parts = parts
        width = column
        activationTypes = types
        activationRowBytes = rowBytes
        activationOffsets = offsets
        activationBytesPerRow = perRow
        regions = layers.map { WeightRegion(address: Int(bitPattern: $0.weight.bytes.baseAddress), bytes: $0.weight.bytes.count) }
    }

    /// The chunks pool threads claim (`ProjectionChunks`); a chunk holds at least 16 rows and 32 KB of weights.
    func chunks(threads: Int) -> [Chunk] {
        if let cached = chunkCache.withLock({ $0 }), cached.threads == threads { return cached.chunks }
        let minRows = parts.map { part in
            (max(16, (32 << 10) / max(1, sl_qtype_row_bytes(part.type, inFeatures))) + 7) / 8 * 8
        }
        let chunks = ProjectionChunks.plan(rows: parts.map(\.rows), minRows: minRows, threads: threads)
        chunkCache.withLock { $0 = (threads, chunks) }
        return chunks
    }

    /// Rows a chunk computes between argmax pieces: their outputs (2 KB a row) are still in L1
    /// or L2 when read, behind 340 KB of the head's Q8_0 weights.
    static let argmaxPiece = 512

    /// out = [x·W₀ᵀ + b₀ | x·W₁ᵀ + b₁ | ...], a [m, width] tensor.
    func forward(_ x: Tensor, into out: Tensor, pool: ThreadPool) {
        _ = run(x, into: out, pool: pool, argmax: false)
    }

    /// As `forward`, and each output row's argmax (`RowArgmax`): each chunk finds its columns'
    /// in pieces, right after computing them.
    func forwardWithArgmax(_ x: Tensor, into out: Tensor, pool: ThreadPool) -> [Int] {
        run(x, into: out, pool: pool, argmax: true) ?? Array(repeating: 0, count: x.rowCount)
    }

    private func run(_ x: Tensor, into out: Tensor, pool: ThreadPool, argmax wanted: Bool) -> [Int]? {
        let k = inFeatures, m = x.rowCount, width = width
        precondition(x.rowLength == k, "QuantizedLinear: input rows of \(x.rowLength), expected \(k)")
        precondition(out.count == m * width, "QuantizedLinear: output \(out.shape) for \(m)×\(width)")
        guard m > 0, width > 0 else { return nil }

        // One quantized copy of x per activation format, in parallel for prefill-sized batches.
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(m * activationBytesPerRow, 1), alignment: 64)
        defer { buffer.deallocate() }
        let xp = x.data
        for (j, type) in activationTypes.enumerated() {
            let base = buffer + m * activationOffsets[j], rowBytes = activationRowBytes[j]
            if m < 32 {
                for r in 0..<m { sl_quantize_act_row(type, xp + r * k, base + r * rowBytes, k) }
            } else {
                pool.parallelFor(m, minChunk: 16) { rows in
                    for r in rows { sl_quantize_act_row(type, xp + r * k, base + r * rowBytes, k) }
                }
            }
        }

        let chunks = chunks(threads: pool.threadCount)
        let argmax = wanted ? RowArgmax(slots: chunks.count, rows: m) : nil
        pool.willRead(regions)
        let op = out.data
        pool.run(chunks: chunks.count) { [parts, activationOffsets] c in
            let chunk = chunks[c], part = parts[chunk.part], y = op + part.column
            let activations = UnsafeRawPointer(buffer + m * activationOffsets[part.activation])
            guard let argmax else {
                Self.compute(part, rows: chunk.lo..<chunk.hi, k: k, activations: activations, m: m, y: y, width: width)
                return
            }
            for lo in stride(from: chunk.lo, to: chunk.hi, by: Self.argmaxPiece) {
                let hi = min(chunk.hi, lo + Self.argmaxPiece)
                Self.compute(part, rows: lo..<hi, k: k, activations: activations, m: m, y: y, width: width)
                for r in 0..<m {
                    argmax.record(slot: c, row: r, values: y + r * width + lo, count: hi - lo, firstColumn: part.column + lo)
                }
            }
        }
        return argmax?.reduce()
    }

    /// Outputs of weight rows `rows` of one part, bias added.
    private static func compute(_ part: Part, rows: Range<Int>, k: Int, activations: UnsafeRawPointer, m: Int,
                                y: UnsafeMutablePointer<Float>, width: Int) {
        if part.repacked {
            sl_quant_x8_matmul(part.type, part.weights, k, rows.lowerBound, rows.upperBound, activations, m, y, width)
        } else {
            sl_quant_matmul(part.type, part.weights, k, rows.lowerBound, rows.upperBound, activations, m, y, width)
        }
        if let bias = part.bias {
            for r in 0..<m {
                let row = y + r * width
                for j in rows { row[j] += bias[j] }
            }
        }
    }
}
