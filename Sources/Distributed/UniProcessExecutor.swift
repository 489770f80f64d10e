import Engine
import Foundation
import Models

/// Where the KV cache's memory comes from: vLLM's flags, with a CPU device's capacity given
/// by `--device-memory` (default: the machine's physical memory, shared by its devices).
public struct CacheConfig: Sendable, Codable, Equatable {
    public var blockSize = 16
    public var gpuMemoryUtilization = 0.9
    public var deviceMemory: Int?
    public var kvCacheMemory: Int?

    public init() {}

    public var resolvedDeviceMemory: Int {
        deviceMemory ?? Int(ProcessInfo.processInfo.physicalMemory)
    }
}

/// Runs the whole model in this process, on one device.
public final class UniProcessExecutor: Executor, @unchecked Sendable {
    public let runner: ModelRunner
    public let budget: KVCacheBudget
    public let numBlocks: Int
    public let vocabSize: Int
    private var pending: [ModelRunnerOutput] = []

    /// Sizes the KV cache from the memory budget and refuses to start when one sequence would not fit.
    public init(model: any CausalLanguageModel, cache: CacheConfig, scheduler: SchedulerConfig,
                log: (String) -> Void = { _ in }) throws(EngineError) {
        let shard = DeviceShard(model: model, cache: cache, scheduler: scheduler)
        budget = shard.budget
        try budget.check(maxModelLen: scheduler.maxModelLen)
        numBlocks = budget.numBlocks + 1  // plus the null block
        vocabSize = model.config.vocabSize
        runner = ModelRunner(model: model, numBlocks: numBlocks, blockSize: cache.blockSize)
        log(budget.capacityLine(maxModelLen: scheduler.maxModelLen))
    }

    public func submit(_ batch: SchedulerOutput) throws {
        guard let output = try runner.execute(batch) else { preconditionFailure("a whole model always samples") }
        pending.append(output)
    }

    public func collect() throws -> ModelRunnerOutput {
        guard !pending.isEmpty else { throw EngineError.executionFailed("collect() without a submitted batch") }
        return pending.removeFirst()
    }
}
