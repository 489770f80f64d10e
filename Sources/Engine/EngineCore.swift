import Foundation

/// The engine loop: schedule → execute → update. One thread drives it; the HTTP front end and
/// the CLI talk to it through an owner that serialises calls.
public final class EngineCore: @unchecked Sendable {
    public let scheduler: Scheduler
    public let executor: any Executor
    private let clock: @Sendable () -> Double
    /// Submitted batches not yet collected, oldest first.
    private var inFlight: [SchedulerOutput] = []

    /// Refuses to start when the cache cannot hold one max-model-len sequence: such a request
    /// could never run, and the engine would wait on it forever.
    public init(config: SchedulerConfig, executor: any Executor, clock: @escaping @Sendable () -> Double = EngineCore.monotonicSeconds) throws(EngineError) {
        try config.validate()
        let usable = executor.numBlocks - 1
        let needed = (config.maxModelLen + config.blockSize - 1) / config.blockSize
        guard usable >= needed else {
            throw .configuration("the KV cache holds \(max(usable, 0) * config.blockSize) tokens (\(max(usable, 0)) blocks of \(config.blockSize)) but one --max-model-len \(config.maxModelLen) sequence needs \(needed) blocks; lower --max-model-len or give the cache more memory")
        }
        scheduler = Scheduler(config: config, numBlocks: executor.numBlocks)
        self.executor = executor
        self.clock = clock
    }

    /// Requests waiting or running, or batches still in flight.
    public var hasUnfinishedRequests: Bool { scheduler.hasUnfinishedRequests || !inFlight.isEmpty }
    public var batchesInFlight: Int { inFlight.count }
    /// Batches submitted since the engine started (for step-time measurements).
    public private(set) var batchesSubmitted = 0
    public var now: Double { clock() }

    public func addRequest(_ request: Request) throws(EngineError) {
        let vocab = executor.vocabSize
        if let bad = request.promptTokenIds.first(where: { $0 < 0 || $0 >= vocab }) {
            throw .invalidRequest("token id \(bad) is out of vocabulary (size \(vocab))")
        }
        try scheduler.add(request, now: clock())
    }

    public func abort(_ ids: [RequestID]) {
        scheduler.finish(ids, reason: .abort, now: clock())
    }

    /// Finishes a request for a reason found outside the core (a stop string).
    public func finish(_ id: RequestID, reason: FinishReason) {
        scheduler.finish([id], reason: reason, now: clock())
    }

    /// One step: submits a new batch while the pipeline has room (filling it before draining,
    /// so every stage has work), otherwise collects the oldest batch and applies its tokens.
    /// With one stage that is schedule → execute → update. Returns nothing when it only submitted.
    public func step() throws -> [EngineCoreOutput] {
        let depth = max(1, executor.maxBatchesInFlight)
        if inFlight.count < depth {
            let batch = scheduler.schedule(now: clock())
            if !batch.isEmpty {
                try executor.submit(batch)
                batchesSubmitted += 1
                inFlight.append(batch)
                if inFlight.count < depth { return [] }
            }
        }
        guard !inFlight.isEmpty else { return [] }
        let result = try executor.collect()
        let batch = inFlight.removeFirst()
        return scheduler.update(batch, result: result, now: clock())
    }

    public static let monotonicSeconds: @Sendable () -> Double = {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    }
}
