import Compute
import ModelFormats

/// The last stage's final norm and LM head, split by vocabulary rows over a tensor-parallel
/// group; the logits are gathered to the group's rank 0 (the sampling rank).
struct ParallelLMHead: Sendable {
    let norm: RMSNorm
    let projection: any LinearLayer
    /// Shares the embedding's weights (no head tensor in the file).
    let tied: Bool
    let vocabSize: Int
    let tensorParallel: (any TensorParallelGroup)?

    /// Held by the last stage only; a file without `name` ties the head to `embedding`.
    static func load(_ name: String, weights: any WeightStore, config: ModelConfig, plan: ShardPlan,
                     embedding: VocabParallelEmbedding?, norm: () throws -> RMSNorm) throws -> ParallelLMHead? {
        guard plan.isLastStage else { return nil }
        let tied = !weights.contains(name)
        let projection = tied ? embedding!.table.asLinear
            : try weights.head(name, outFeatures: config.vocabSize, inFeatures: config.hiddenSize,
                               rows: plan.tpSize > 1 ? plan.slice(config.vocabSize) : nil)
        return ParallelLMHead(norm: try norm(), projection: projection, tied: tied, vocabSize: config.vocabSize,
                              tensorParallel: plan.tensorParallel)
    }

    /// Logits [rows.count, vocab] of the given hidden rows on TP rank 0; an empty tensor elsewhere.
    /// An unsplit head also gives each row's argmax where its projection finds it.
    func logits(_ hidden: Tensor, rows: [Int]) -> ForwardOutput {
        let last = hidden.gatherRows(rows)
        norm.forward(last, into: last)
        guard let tp = tensorParallel else {
            let (logits, argmax) = projection.withRowArgmax(last, pool: .shared)
            return ForwardOutput(logits, argmax: argmax)
        }
        return ForwardOutput(tp.gatherColumns(projection(last), totalColumns: vocabSize) ?? Tensor(zeros: [0, vocabSize]))
    }

    /// Bytes beyond the embedding's (a tied head adds only its norm).
    var weightBytes: Int { 4 * norm.weight.count + (tied ? 0 : projection.weightBytes) }
}
