import Compute
import Engine
import Foundation
import ModelFormats
import Models

/// One device's model shard with its memory budget: weights, measured activation peak, and the
/// KV blocks that fit in the rest. The same arithmetic for the uni-process executor and every
/// worker, so a group's block count is the minimum over identical rules.
public struct DeviceShard: Sendable {
    public let model: any CausalLanguageModel
    public let budget: KVCacheBudget

    /// Measures the activation peak unless `--kv-cache-memory` fixes the KV bytes. Every
    /// tensor-parallel peer must call this at the same time (the measurement runs the model).
    public init(model: any CausalLanguageModel, cache: CacheConfig, scheduler: SchedulerConfig) {
        self.model = model
        let activations = cache.kvCacheMemory == nil
            ? Self.activationPeak(model: model, tokens: scheduler.maxNumBatchedTokens, maxModelLen: scheduler.maxModelLen, blockSize: cache.blockSize)
            : 0
        budget = KVCacheBudget(
            deviceMemory: cache.resolvedDeviceMemory, utilization: cache.gpuMemoryUtilization,
            explicitKVBytes: cache.kvCacheMemory, weightBytes: model.weightBytes, activationBytes: activations,
            bytesPerBlock: model.kvBytesPerBlock(blockSize: cache.blockSize), blockSize: cache.blockSize)
    }

    /// Rank `rank`'s shard of a group: loads its part of the model (`loadModel` turns a plan for
    /// the model's config into the network), measures its memory and checks that one
    /// max-model-len sequence fits. Every tensor-parallel peer must call this at the same time.
    static func load(rank: Int, parallel: ParallelConfig, data: any Communicator, cache: CacheConfig, scheduler: SchedulerConfig,
                     loadModel: ((ModelConfig) throws -> ShardPlan) throws -> any CausalLanguageModel) throws -> DeviceShard {
        let group = CommunicatorGroup(communicator: data, members: parallel.tensorParallelGroup(ofRank: rank))
        let model = try loadModel { config in
            try parallel.plan(rank: rank, config: config, group: parallel.tensorParallelSize > 1 ? group : nil)
        }
        let shard = DeviceShard(model: model, cache: cache, scheduler: scheduler)
        if let failure = group.failure { throw failure }
        try shard.budget.check(maxModelLen: scheduler.maxModelLen)
        return shard
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

    /// The startup line users read for this device.
    public func describe(rank: Int) -> String {
        let plan = model.plan, c = model.config
        let heads = plan.queryHeads(c), kv = plan.kvHeads(c), experts = plan.experts(c.numExperts)
        let expertText = c.numExperts == 0 ? "" : plan.expertParallel ? ", experts \(experts.lowerBound)-\(experts.upperBound - 1)" : ", \(c.numExperts) experts sliced"
        return "rank \(rank): stage layers \(plan.layers.lowerBound)-\(plan.layers.upperBound - 1), tp \(plan.tpRank)/\(plan.tpSize) heads \(heads.lowerBound)-\(heads.upperBound - 1) (KV \(kv.lowerBound)-\(kv.upperBound - 1))\(expertText), weights \(KVCacheBudget.human(model.weightBytes)), activations \(KVCacheBudget.human(budget.activationBytes)), KV blocks \(budget.numBlocks)"
    }
}
