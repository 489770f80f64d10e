import Compute
import Engine
import Foundation
import Models

/// Where a pipeline stage's activations come from and go to: the ranks holding the same
/// tensor-parallel slice in the previous and next stages.
public struct StageLinks: Sendable {
    public let communicator: any Communicator
    public let previous: Int?
    public let next: Int?

    public init(communicator: any Communicator, previous: Int?, next: Int?) {
        self.communicator = communicator
        self.previous = previous
        self.next = next
    }
}

/// One device's shard of the model, its KV cache and per-request sampling state: turns a
/// `SchedulerOutput` into a `ForwardBatch` and runs its layers. A first stage embeds the batch's
/// tokens; later stages receive the previous stage's hidden states; the last stage's
/// tensor-parallel rank 0 samples (as vLLM's model runner, sampling sits with the device).
public final class ModelRunner: @unchecked Sendable {
    public let model: any CausalLanguageModel
    public let caches: [PagedKVCache]
    public let blockSize: Int
    public let links: StageLinks?
    public var trace: TraceRecorder?
    private let sampler = Sampler()
    private var states: [RequestID: SamplingState] = [:]

    public init(model: any CausalLanguageModel, numBlocks: Int, blockSize: Int, links: StageLinks? = nil) {
        self.model = model
        self.blockSize = blockSize
        self.links = links
        caches = model.makeKVCaches(numBlocks: numBlocks, blockSize: blockSize)
    }

    /// True on the one rank that samples: the last stage's tensor-parallel rank 0.
    public var samples: Bool { model.plan.isLastStage && model.plan.tpRank == 0 }

    /// Runs this rank's part of a step; returns the sampled tokens on the sampling rank, nil elsewhere.
    public func execute(_ batch: SchedulerOutput) throws -> ModelRunnerOutput? {
        for id in batch.releasedRequestIds { states[id] = nil }
        var tokens: [Int] = [], positions: [Int] = [], slots: [Int32] = []
        var sequences: [AttentionSequence] = [], logitRows: [Int] = [], sampling: [RequestID] = []
        for scheduled in batch.requests {
            if let new = scheduled.newRequest {
                states[scheduled.id] = SamplingState(params: new.sampling, promptTokenIds: new.promptTokenIds,
                                                     outputTokenIds: new.outputTokenIds, eosTokenIds: new.eosTokenIds, seed: new.seed)
            }
            guard states[scheduled.id] != nil else {
                throw EngineError.executionFailed("the worker has no state for request \(scheduled.id)")
            }
            let range = scheduled.startPosition..<(scheduled.startPosition + scheduled.numTokens)
            let firstRow = tokens.count
            tokens += scheduled.tokenIds
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
        guard !tokens.isEmpty else { return samples ? ModelRunnerOutput(sampled: [:]) : nil }
        let forward = ForwardBatch(tokens: tokens, positions: positions, sequences: sequences, slotMapping: slots, logitRows: logitRows)

        var input: Tensor?
        if let previous = links?.previous, let comm = links?.communicator {
            let hidden = Tensor(zeros: [tokens.count, model.config.hiddenSize])
            try comm.receiveFloats(into: UnsafeMutableBufferPointer(start: hidden.data, count: hidden.count), from: previous)
            input = hidden
        }
        let started = TraceRecorder.now()
        let step = model.forward(forward, input: input, caches: caches), out = step.tensor
        if let failure = model.plan.tensorParallel?.failure { throw failure }
        if let next = links?.next, let comm = links?.communicator {
            trace?.record(batch: batch, start: started, end: TraceRecorder.now())
            try comm.sendFloats(UnsafeBufferPointer(start: out.data, count: out.count), to: next)
            return nil
        }
        // The device's slice covers its compute and its sampling, not its waits.
        defer { trace?.record(batch: batch, start: started, end: TraceRecorder.now()) }
        guard samples else { return nil }
        var sampled: [RequestID: SampledToken] = [:]
        for (row, id) in sampling.enumerated() {
            let token = sampler.sample(
                logits: UnsafeMutableBufferPointer(start: out.row(row), count: out.rowLength), state: states[id]!,
                argmax: step.argmax?[row])
            states[id]!.outputTokenIds.append(token.tokenId)
            sampled[id] = token
        }
        return ModelRunnerOutput(sampled: sampled)
    }

    /// Peak activation bytes of a batch of `tokens` tokens in sequences of at most `maxModelLen`,
    /// measured on a scratch cache (vLLM's profile run). Every tensor-parallel peer must measure
    /// at the same time (the forward pass all-reduces); later stages start from zero activations.
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
        return MemoryTracker.measurePeak {
            let input = model.plan.isFirstStage ? nil : Tensor(zeros: [ids.count, model.config.hiddenSize])
            _ = model.forward(batch, input: input, caches: caches)
        }
    }
}
