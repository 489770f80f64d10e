/// Several projections of the same input whose outputs are concatenated along columns: q/k/v
/// or gate/up when their weights cannot be fused into one matrix (a GGUF stores them apart,
/// often in different quantization types).
public struct ConcatenatedLinear: LinearLayer {
    public let parts: [any LinearLayer]
    /// The parts, when all are quantized: they then run as one pool job on one quantized x.
    private let quantized: QuantizedProjections?

    public init(_ parts: [any LinearLayer]) {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.inFeatures == parts[0].inFeatures }, "ConcatenatedLinear: parts must share inFeatures")
        self.parts = parts
        let quantized = parts.compactMap { $0 as? QuantizedLinear }
        self.quantized = quantized.count == parts.count ? QuantizedProjections(quantized.map { ($0.weight, $0.bias) }) : nil
    }

    public var inFeatures: Int { parts[0].inFeatures }
    public var outFeatures: Int { parts.reduce(0) { $0 + $1.outFeatures } }
    public var weightBytes: Int { parts.reduce(0) { $0 + $1.weightBytes } }

    public func callAsFunction(_ x: Tensor, pool: ThreadPool) -> Tensor {
        let rows = x.rowCount, width = outFeatures
        if let quantized {
            let out = Tensor(unfilled: [rows, width])  // the kernels write every element
            quantized.forward(x, into: out, pool: pool)
            return out
        }
        let out = Tensor(zeros: [rows, width])
        var column = 0
        for part in parts {
            let y = part(x, pool: pool)
            for r in 0..<rows { (out.row(r) + column).update(from: y.row(r), count: part.outFeatures) }
            column += part.outFeatures
        }
        return out
    }
}
