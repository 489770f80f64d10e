import Compute
import ModelFormats

/// A token embedding split by vocabulary rows over a tensor-parallel group: each rank gathers
/// the tokens in its slice, the others stay zero, and one all-reduce completes every row.
struct VocabParallelEmbedding: Sendable {
    let table: any EmbeddingTable
    /// The vocabulary rows this rank holds.
    let vocab: Range<Int>
    let vocabSize: Int
    let tensorParallel: (any TensorParallelGroup)?

    /// Held by the first stage, and by the last when the LM head is tied to it; nil elsewhere.
    static func load(_ name: String, weights: any WeightStore, config: ModelConfig, plan: ShardPlan,
                     tiedHead: Bool) throws -> VocabParallelEmbedding? {
        guard plan.isFirstStage || (plan.isLastStage && tiedHead) else { return nil }
        let vocab = plan.slice(config.vocabSize)
        let table = try weights.embedding(name, vocabSize: config.vocabSize, hiddenSize: config.hiddenSize,
                                          rows: plan.tpSize > 1 ? vocab : nil)
        return VocabParallelEmbedding(table: table, vocab: vocab, vocabSize: config.vocabSize, tensorParallel: plan.tensorParallel)
    }

    /// [tokens.count, hidden] rows, each times `scale`.
    func embed(_ tokens: [Int], scale: Float) -> Tensor {
        for token in tokens { precondition(token >= 0 && token < vocabSize, "token id \(token) outside vocabulary of \(vocabSize)") }
        let hidden = table.hiddenSize
        let out = Tensor(zeros: [tokens.count, hidden])
        guard let tp = tensorParallel, tp.size > 1 else {
            table.gather(tokens, into: out, scale: scale)
            return out
        }
        let mine = tokens.indices.filter { vocab.contains(tokens[$0]) }
        if !mine.isEmpty {
            let rows = Tensor(zeros: [mine.count, hidden])
            table.gather(mine.map { tokens[$0] - vocab.lowerBound }, into: rows, scale: scale)
            for (i, at) in mine.enumerated() { out.row(at).update(from: rows.row(i), count: hidden) }
        }
        tp.allReduceSum(out)
        return out
    }

    var weightBytes: Int { table.weightBytes }
}
