/// A token embedding table: gathers rows by token id, and (tied heads) doubles as the LM head.
public protocol EmbeddingTable: Sendable {
    var vocabSize: Int { get }
    var hiddenSize: Int { get }
    /// Writes row `tokens[i]`, times `scale`, into row i of `out` ([tokens.count, hiddenSize]).
    func gather(_ tokens: [Int], into out: Tensor, scale: Float)
    /// The same weights as a [vocab, hidden] projection, for a tied LM head.
    var asLinear: any LinearLayer { get }
    var weightBytes: Int { get }
}

/// An f32 embedding table.
public struct DenseEmbedding: EmbeddingTable {
    public let weight: Tensor

    public init(weight: Tensor) {
        precondition(weight.rank == 2, "embedding must be [vocab, hidden], got \(weight.shape)")
        self.weight = weight
    }

    public var vocabSize: Int { weight.shape[0] }
    public var hiddenSize: Int { weight.shape[1] }
    public var asLinear: any LinearLayer { Linear(weight: weight) }
    public var weightBytes: Int { 4 * weight.count }

    public func gather(_ tokens: [Int], into out: Tensor, scale: Float) {
        for (i, token) in tokens.enumerated() {
            precondition(token >= 0 && token < vocabSize, "token id \(token) outside vocabulary of \(vocabSize)")
            let src = weight.row(token), dst = out.row(i)
            for j in 0..<hiddenSize { dst[j] = src[j] * scale }
        }
    }
}
