import ShardlineKernels

/// An embedding table kept in its quantized blocks: a lookup dequantizes just the rows it needs,
/// and as a tied LM head it runs the quantized matmul. (Gemma 3's 262k × 640 Q8_0 table is
/// 178 MB quantized, 671 MB as f32.)
public struct QuantizedEmbedding: EmbeddingTable {
    public let matrix: QuantizedMatrix

    public init(matrix: QuantizedMatrix) { self.matrix = matrix }

    public var vocabSize: Int { matrix.rows }
    public var hiddenSize: Int { matrix.cols }
    public var asLinear: any LinearLayer { QuantizedLinear(weight: matrix) }
    public var weightBytes: Int { matrix.bytes.count }

    public func gather(_ tokens: [Int], into out: Tensor, scale: Float) {
        for (i, token) in tokens.enumerated() {
            precondition(token >= 0 && token < vocabSize, "token id \(token) outside vocabulary of \(vocabSize)")
            let dst = out.row(i)
            matrix.dequantizeRow(token, into: dst)
            if scale != 1 { for j in 0..<hiddenSize { dst[j] *= scale } }
        }
    }
}

extension QuantizedLinear: LinearLayer {
    public var weightBytes: Int { weight.bytes.count + 4 * (bias?.count ?? 0) }
}
