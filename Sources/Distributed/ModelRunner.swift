import Compute
import Engine
import Models

/// One device's model, KV cache and per-request state: turns a `SchedulerOutput` into a
/// `ForwardBatch`, runs it and samples. Like vLLM's GPU model runner it keeps each request's
/// tokens between steps, so a step carries only what changed.
public final class ModelRunner: @unchecked Sendable {
    public let model: any CausalLanguageModel
    public let caches: [PagedKVCache]
    public let blockSize: Int
    private let sampler = Sampler()
    private var states: [RequestID: RequestState] = [:]

    struct RequestState {
        /// Prompt then every token sampled so far.
        var tokens: [Int]
        var sampling: SamplingState
    }

    public init(model: any CausalLanguageModel, numBlocks: Int, blockSize: Int) {
        self.model = model
        self.blockSize = blockSize
        caches = model.makeKVCaches(numBlocks: numBlocks, blockSize: blockSize)
    }

    public func execute(_ batch: SchedulerOutput) -> ModelRunnerOutput {
        for id in batch.releasedRequestIds { states[id] = nil }
        var tokens: [Int] = [], positions: [Int] = [], slots: [Int32] = []
        var sequences: [AttentionSequence] = [], logitRows: [Int] = [], sampling: [RequestID] = []
        for scheduled in batch.requests {
            if let new = scheduled.newRequest {
                states[scheduled.id] = RequestState(
                    tokens: new.promptTokenIds + new.outputTokenIds,
                    sampling: SamplingState(params: new.sampling, promptTokenIds: new.promptTokenIds,
                                            outputTokenIds: new.outputTokenIds, eosTokenIds: new.eosTokenIds, seed: new.seed))
            }
            guard let state = states[scheduled.id] else {
                preconditionFailure("ModelRunner: no state for request \(scheduled.id)")
            }
            let range = scheduled.startPosition..<(scheduled.startPosition + scheduled.numTokens)
            precondition(range.upperBound <= state.tokens.count, "ModelRunner: \(scheduled.id) scheduled past its known tokens")
            let firstRow = tokens.count
            tokens += state.tokens[range]
            positions += range
            for p in range {
                slots.append(scheduled.blockTable[p / blockSize] * Int32(blockSize) + Int32(p % blockSize))
            }
            sequences.append(AttentionSequence(queryRows: firstRow..<tokens.count, firstPosition: range.lowerBound,
                                               blockTable: scheduled.blockTable))
            if scheduled.samples {
                logitRows.append(tokens.count - 1)
                sampling.append(scheduled.id)
            }
        }
        guard !tokens.isEmpty else { return ModelRunnerOutput(sampled: [:]) }
        let logits = model.forward(
            ForwardBatch(tokens: tokens, positions: positions, sequences: sequences, slotMapping: slots, logitRows: logitRows),
            caches: caches)
        var sampled: [RequestID: SampledToken] = [:]
        for (row, id) in sampling.enumerated() {
            let token = sampler.sample(
                logits: UnsafeMutableBufferPointer(start: logits.row(row), count: logits.rowLength),
                state: states[id]!.sampling)
            states[id]!.tokens.append(token.tokenId)
            states[id]!.sampling.outputTokenIds.append(token.tokenId)
            sampled[id] = token
        }
        return ModelRunnerOutput(sampled: sampled)
    }

    /// Peak activation bytes of a batch of `tokens` tokens in sequences of at most `maxModelLen`,
    /// measured on a scratch cache (vLLM's profile run).
    public static func measureActivationPeak(model: any CausalLanguageModel, tokens: Int, maxModelLen: Int, blockSize: Int) -> Int {
        let seqLen = max(1, min(tokens, maxModelLen))
        let numSeqs = (tokens + seqLen - 1) / seqLen
        let blocksPerSeq = (seqLen + blockSize - 1) / blockSize
        let caches = model.makeKVCaches(numBlocks: numSeqs * blocksPerSeq, blockSize: blockSize)
        var ids: [Int] = [], positions: [Int] = [], slots: [Int32] = []
        var sequences: [AttentionSequence] = [], logitRows: [Int] = []
        var remaining = tokens
        for s in 0..<numSeqs {
            let n = min(seqLen, remaining)
            remaining -= n
            let table = (0..<blocksPerSeq).map { Int32(s * blocksPerSeq + $0) }
            sequences.append(AttentionSequence(queryRows: ids.count..<(ids.count + n), firstPosition: 0, blockTable: table))
            ids += Array(repeating: 0, count: n)
            positions += 0..<n
            slots += (0..<n).map { table[$0 / blockSize] * Int32(blockSize) + Int32($0 % blockSize) }
            logitRows.append(ids.count - 1)
        }
        let batch = ForwardBatch(tokens: ids, positions: positions, sequences: sequences, slotMapping: slots, logitRows: logitRows)
        return MemoryTracker.measurePeak { _ = model.forward(batch, caches: caches) }
    }
}
