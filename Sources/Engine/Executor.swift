/// Runs scheduled batches on devices. The engine core knows nothing else of compute: the
/// uni-process executor, the multi-process workers and the planner's simulator all fit here.
/// (Defined in Engine rather than Distributed because EngineCore drives it and Distributed
/// depends on Engine's types.)
///
/// Batches are submitted and collected in order. A pipeline of `maxBatchesInFlight` stages
/// takes that many before the oldest must be collected, so every stage has work.
public protocol Executor: AnyObject, Sendable {
    /// KV blocks each device can hold, null block included; the minimum over all workers.
    var numBlocks: Int { get }
    var vocabSize: Int { get }
    /// How many batches may be in flight at once: the pipeline depth.
    var maxBatchesInFlight: Int { get }
    /// Starts a batch. May compute part of it (the first pipeline stage) before returning.
    func submit(_ batch: SchedulerOutput) throws
    /// Waits for the oldest submitted batch. Its output has a token for every request with `samples` set.
    func collect() throws -> ModelRunnerOutput
    /// Stops the devices (worker processes); idempotent.
    func shutdown()
    /// A device that has died, described, or nil while all live. Safe from any thread.
    var deadDevice: String? { get }
}

extension Executor {
    public var maxBatchesInFlight: Int { 1 }
    public func shutdown() {}
    public var deadDevice: String? { nil }

    /// Runs one batch start to finish (nothing else in flight).
    public func execute(_ batch: SchedulerOutput) throws -> ModelRunnerOutput {
        try submit(batch)
        return try collect()
    }
}
