import Engine
import Foundation
import Models

/// Where the KV cache's memory comes from: vLLM's flags, with a CPU device's capacity given
/// by `--device-memory` (default: the machine's physical memory).
public struct CacheConfig: Sendable {
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

    /// Sizes the KV cache from the memory budget (measuring the activation peak unless
    /// `--kv-cache-memory` fixes it) and refuses to start when one sequence would not fit.
    public init(model: any CausalLanguageModel, cache: CacheConfig, scheduler: SchedulerConfig,
                log: (String) -> Void = { _ in }) throws(EngineError) {
        let c = model.config
        let activations = cache.kvCacheMemory == nil
            ? Self.activationPeak(model: model, tokens: scheduler.maxNumBatchedTokens, maxModelLen: scheduler.maxModelLen, blockSize: cache.blockSize)
            : 0
        budget = KVCacheBudget(
            deviceMemory: cache.resolvedDeviceMemory, utilization: cache.gpuMemoryUtilization,
            explicitKVBytes: cache.kvCacheMemory, weightBytes: model.weightBytes, activationBytes: activations,
            bytesPerBlock: KVCacheBudget.bytesPerBlock(layers: c.numLayers, blockSize: cache.blockSize, kvHeads: c.numKVHeads, headDim: c.headDim),
            blockSize: cache.blockSize)
        try budget.check(maxModelLen: scheduler.maxModelLen)
        numBlocks = budget.numBlocks + 1  // plus the null block
        vocabSize = c.vocabSize
        runner = ModelRunner(model: model, numBlocks: numBlocks, blockSize: cache.blockSize)
        log(budget.capacityLine(maxModelLen: scheduler.maxModelLen))
    }

    /// vLLM runs a full maximum-size batch to measure this; on a CPU that is seconds of prefill
    /// at every start. Activations grow linearly with the tokens in a batch, so two small
    /// measured batches give the line, extrapolated to the budget (attention scratch, the only
    /// part growing faster, is per thread and small).
    static func activationPeak(model: any CausalLanguageModel, tokens: Int, maxModelLen: Int, blockSize: Int) -> Int {
        let (t1, t2) = (32, 64)
        guard tokens > t2 else {
            return ModelRunner.measureActivationPeak(model: model, tokens: tokens, maxModelLen: maxModelLen, blockSize: blockSize)
        }
        let p1 = ModelRunner.measureActivationPeak(model: model, tokens: t1, maxModelLen: maxModelLen, blockSize: blockSize)
        let p2 = ModelRunner.measureActivationPeak(model: model, tokens: t2, maxModelLen: maxModelLen, blockSize: blockSize)
        let slope = Double(max(0, p2 - p1)) / Double(t2 - t1)
        return p2 + Int(slope * Double(tokens - t2))
    }

    public func execute(_ batch: SchedulerOutput) throws -> ModelRunnerOutput {
        runner.execute(batch)
    }
}
