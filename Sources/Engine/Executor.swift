/// Runs scheduled batches on devices. The engine core knows nothing else of compute: the
/// uni-process executor, the multi-process workers and the planner's simulator all fit here.
/// (Defined in Engine rather than Distributed because EngineCore drives it and Distributed
/// depends on Engine's types.)
public protocol Executor: AnyObject, Sendable {
    /// KV blocks each device can hold, null block included; the minimum over all workers.
    var numBlocks: Int { get }
    var vocabSize: Int { get }
    /// Runs one step. Must return a token for every scheduled request with `samples` set.
    func execute(_ batch: SchedulerOutput) throws -> ModelRunnerOutput
}
