import Engine

/// An `Executor` that runs no model: it times each batch with the cost model and answers in
/// virtual time. A discrete-event pipeline: stage s starts batch b when it is free and stage
/// s−1 has finished b (plus the hand-off). `collect` moves the clock to the oldest batch's
/// finish on the last stage, as a real collect would block until then.
///
/// @unchecked Sendable: driven by the one engine-loop thread, like the real executors.
public final class SimulatedExecutor: Executor, @unchecked Sendable {
    public let numBlocks: Int
    public let vocabSize: Int
    public let costModel: CostModel
    public let clock: VirtualClock
    /// The token every sampling request receives; any in-vocabulary id works because requests
    /// end by max_tokens with ignore_eos.
    public let sampledTokenId: Int

    private var stageFreeAt: [Double]
    private var pending: [(batch: SchedulerOutput, finish: Double)] = []
    public private(set) var stageBusySeconds: [Double]
    public private(set) var batchesExecuted = 0
    /// Every batch's time on every stage, when `recordSlices` is set.
    public var recordSlices = false
    public private(set) var stageSlices: [StageSlice] = []
    /// Per-batch (start on stage 0, finish on the last stage), for traces.
    public private(set) var batchSpans: [(stepId: Int, start: Double, finish: Double, tokens: Int)] = []

    public init(costModel: CostModel, clock: VirtualClock, numBlocks: Int, vocabSize: Int, sampledTokenId: Int = 1) {
        self.costModel = costModel
        self.clock = clock
        self.numBlocks = numBlocks
        self.vocabSize = vocabSize
        self.sampledTokenId = min(sampledTokenId, vocabSize - 1)
        stageFreeAt = Array(repeating: 0, count: costModel.layout.pp)
        stageBusySeconds = Array(repeating: 0, count: costModel.layout.pp)
    }

    public var maxBatchesInFlight: Int { costModel.layout.pp }

    public func submit(_ batch: SchedulerOutput) throws {
        let slices = batch.requests.map {
            BatchSlice(newTokens: $0.numTokens, contextLength: $0.startPosition + $0.numTokens, samples: $0.samples)
        }
        let times = costModel.stageTimes(slices)
        // The host hands the batch over now; stage 0 takes it when it is done with the previous one.
        var ready = clock.now
        var start0 = ready
        for s in 0..<times.count {
            let start = max(stageFreeAt[s], ready)
            if s == 0 { start0 = start }
            let finish = start + times[s]
            if recordSlices {
                stageSlices.append(StageSlice(stage: s, batch: batch.stepId, tokens: batch.totalTokens,
                                              decodeOnly: batch.requests.allSatisfy { $0.numTokens == 1 }, start: start, end: finish))
            }
            stageFreeAt[s] = finish
            stageBusySeconds[s] += times[s]
            ready = finish + costModel.pipelineSendTime(afterStage: s, tokens: batch.totalTokens)
        }
        let finish = stageFreeAt[times.count - 1]
        pending.append((batch, finish))
        batchSpans.append((batch.stepId, start0, finish, batch.totalTokens))
        batchesExecuted += 1
    }

    public func collect() throws -> ModelRunnerOutput {
        guard !pending.isEmpty else { throw EngineError.executionFailed("collect with no batch in flight") }
        let (batch, finish) = pending.removeFirst()
        clock.advance(to: finish)
        var sampled: [RequestID: SampledToken] = [:]
        for request in batch.requests where request.samples {
            sampled[request.id] = SampledToken(tokenId: sampledTokenId)
        }
        return ModelRunnerOutput(sampled: sampled)
    }
}
