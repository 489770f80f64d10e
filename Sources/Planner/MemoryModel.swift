/// Per-GPU memory for one layout: weights of the GPU's shard, an activation estimate, and the
/// KV cache that fits in what is left. Pure arithmetic.
public struct MemoryModel: Sendable {
    public var model: ModelSpec
    public var gpu: GPUSpec
    public var quantization: Quantization
    /// 2 for a 16-bit KV cache (vLLM's `--kv-cache-dtype auto`), 1 for fp8.
    public var kvBytesPerElement: Int
    public var utilization: Double
    public var blockSize: Int
    /// The profile batch: vLLM sizes activation memory on a dummy batch of this many tokens.
    public var maxNumBatchedTokens: Int
    public var maxNumSeqs: Int
    public let params: ParameterCount

    public init(model: ModelSpec, gpu: GPUSpec, quantization: Quantization = .bf16, kvBytesPerElement: Int = 2,
                utilization: Double = 0.9, blockSize: Int = 16, maxNumBatchedTokens: Int = 2048, maxNumSeqs: Int = 256) {
        self.model = model
        self.gpu = gpu
        self.quantization = quantization
        self.kvBytesPerElement = kvBytesPerElement
        self.utilization = utilization
        self.blockSize = blockSize
        self.maxNumBatchedTokens = maxNumBatchedTokens
        self.maxNumSeqs = maxNumSeqs
        params = ParameterCount(model)
    }

    /// The whole model's weights at this quantization, unsharded.
    public var totalWeightBytes: Double {
        let p = params
        let embeddings = (p.embedding + p.lmHead) * Overheads.embeddingBytesPerWeight
        return embeddings + (p.total - p.embedding - p.lmHead) * quantization.bytesPerWeight
    }

    /// Weight bytes on one GPU of pipeline stage `stage`. TP splits attention heads and MLP
    /// columns (norms and MLA's latent down-projection are replicated); EP gives each GPU
    /// experts/ep whole experts, otherwise every GPU holds every expert at 1/tp width; PP gives
    /// the stage its layers; the vocab-parallel embedding (first stage) and LM head (last stage)
    /// are split across TP. A tied LM head is a second copy once it sits on another stage.
    public func weightBytes(stage: Int, layout: ParallelLayout) -> Double {
        let p = params
        let range = layout.stageLayerRanges(numLayers: model.numLayers)[stage]
        let tp = Double(layout.tp)
        var layerParams = 0.0
        for layer in range {
            layerParams += p.attentionSharded / tp + p.attentionReplicated
            if model.isMoELayer(layer) {
                let experts = layout.ep > 1
                    ? Double((p.numExperts + layout.ep - 1) / layout.ep) * p.expert
                    : Double(p.numExperts) * p.expert / tp
                layerParams += experts + p.sharedExperts / tp + p.router
            } else {
                layerParams += p.denseMLP / tp
            }
        }
        var embeddings = 0.0
        let first = stage == 0, last = stage == layout.pp - 1
        if first { embeddings += p.embedding / tp }
        if last { embeddings += (model.tieWordEmbeddings ? (first ? 0 : p.embedding) : p.lmHead) / tp }
        if last { layerParams += p.finalNorm }
        return layerParams * quantization.bytesPerWeight + embeddings * Overheads.embeddingBytesPerWeight
    }

    /// Peak activation estimate for one GPU: the live tensors of one layer for a profile batch of
    /// `maxNumBatchedTokens` (residual, normed input and attention output: 3·hidden; the rank's
    /// QKV; gate and up outputs: 2·intermediate/tp, routed MLPs at k experts' width), at 16 bits,
    /// plus fp32 logits for `maxNumSeqs` sampled rows on the last stage, plus fixed non-torch memory.
    public func activationBytes(stage: Int, layout: ParallelLayout) -> Double {
        let tp = Double(layout.tp)
        let h = Double(model.hiddenSize)
        let qkv = Double(model.numAttentionHeads * model.queryHeadDim + 2 * model.numKVHeads * model.valueHeadDim) / tp
        let denseWidth = Double(model.intermediateSize)
        let moeWidth = Double((model.moeIntermediateSize ?? 0) * (model.expertsPerToken ?? 0) + (model.numSharedExperts ?? 0) * (model.moeIntermediateSize ?? 0))
        let mlp = 2 * max(denseWidth, moeWidth) / tp
        var bytes = Double(maxNumBatchedTokens) * (3 * h + qkv + mlp) * Double(Overheads.activationBytesPerElement)
        if stage == layout.pp - 1 {
            bytes += Double(maxNumSeqs) * Double(model.vocabSize) / tp * Double(Overheads.logitBytesPerElement)
        }
        return bytes + Double(Overheads.nonTorchBytes)
    }

    /// KV bytes one token takes on one GPU of `stage` (its layers, its share of KV heads).
    public func kvBytesPerToken(stage: Int, layout: ParallelLayout) -> Int {
        let layers = layout.stageLayerRanges(numLayers: model.numLayers)[stage].count
        return layers * model.kvElementsPerTokenPerLayer(tp: layout.tp) * kvBytesPerElement
    }

    /// Bytes `--gpu-memory-utilization` lets Shardline use on one GPU.
    public var usableBytes: Double { Double(gpu.memoryBytes) * utilization }

    public func plan(_ layout: ParallelLayout, maxModelLen: Int) -> MemoryPlan {
        let stages = (0..<layout.pp).map { s -> StageMemory in
            let weights = weightBytes(stage: s, layout: layout)
            let activations = activationBytes(stage: s, layout: layout)
            let kvBytes = max(0, usableBytes - weights - activations)
            let perToken = kvBytesPerToken(stage: s, layout: layout)
            let blocks = perToken > 0 ? Int(kvBytes / Double(perToken * blockSize)) : 0
            return StageMemory(stage: s, layers: layout.stageLayerRanges(numLayers: model.numLayers)[s].count,
                               weightBytes: weights, activationBytes: activations, kvCacheBytes: kvBytes,
                               kvBytesPerToken: perToken, kvCapacityTokens: blocks * blockSize)
        }
        // A replica holds as many tokens as its tightest stage (the engine takes the minimum
        // block count over workers).
        let capacity = stages.map(\.kvCapacityTokens).min() ?? 0
        let perToken = stages.map(\.kvBytesPerToken).max() ?? 0
        return MemoryPlan(usableBytesPerGPU: usableBytes, stages: stages,
                          weightBytesPerGPU: stages.map(\.weightBytes).max() ?? 0,
                          kvBytesPerTokenPerGPU: perToken, kvBytesPerRequestPerGPU: perToken * maxModelLen,
                          kvCapacityTokensPerReplica: capacity,
                          maxConcurrencyPerReplica: Double(capacity) / Double(maxModelLen),
                          maxConcurrency: Double(capacity) / Double(maxModelLen) * Double(layout.dp),
                          numBlocksPerReplica: capacity / blockSize)
    }
}

public struct StageMemory: Sendable, Codable, Equatable {
    public var stage: Int
    public var layers: Int
    public var weightBytes: Double
    public var activationBytes: Double
    public var kvCacheBytes: Double
    public var kvBytesPerToken: Int
    public var kvCapacityTokens: Int
}

public struct MemoryPlan: Sendable, Codable, Equatable {
    public var usableBytesPerGPU: Double
    public var stages: [StageMemory]
    /// The fullest GPU's weights.
    public var weightBytesPerGPU: Double
    public var kvBytesPerTokenPerGPU: Int
    /// KV of one max-model-len request on the fullest GPU.
    public var kvBytesPerRequestPerGPU: Int
    public var kvCapacityTokensPerReplica: Int
    public var maxConcurrencyPerReplica: Double
    /// Over all DP replicas.
    public var maxConcurrency: Double
    public var numBlocksPerReplica: Int
}
