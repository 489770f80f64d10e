import Foundation

/// One request's share of a batch as the cost model sees it.
public struct BatchSlice: Sendable, Equatable {
    /// Tokens computed this step.
    public var newTokens: Int
    /// Tokens attended to by the last new token: start position + new tokens.
    public var contextLength: Int
    /// Whether the step samples a token for this request (the LM head runs on one row).
    public var samples: Bool

    public init(newTokens: Int, contextLength: Int, samples: Bool) {
        self.newTokens = newTokens
        self.contextLength = contextLength
        self.samples = samples
    }
}

/// Time of one pipeline stage, by cause.
public struct StageCost: Sendable, Equatable {
    public var gemm = 0.0
    public var attention = 0.0
    public var communication = 0.0
    public var overhead = 0.0
    public var total: Double { gemm + attention + communication + overhead }
}

/// Step time per pipeline stage for a batch, from the model's shape and the hardware's
/// datasheet figures. Every GEMM is a roofline (compute or weight streaming, whichever is
/// slower), attention is bounded by the KV bytes it reads (or its FLOPs in long prefills),
/// TP all-reduces are rings over the link, and each step pays a fixed host overhead.
public struct CostModel: Sendable {
    public let memory: MemoryModel
    public let layout: ParallelLayout
    public let cluster: Cluster
    public let intraNodeLink: LinkSpec
    public let interNodeLink: LinkSpec
    private let stageRanges: [Range<Int>]

    public init(memory: MemoryModel, layout: ParallelLayout, cluster: Cluster, intraNodeLink: LinkSpec, interNodeLink: LinkSpec) {
        self.memory = memory
        self.layout = layout
        self.cluster = cluster
        self.intraNodeLink = intraNodeLink
        self.interNodeLink = interNodeLink
        stageRanges = layout.stageLayerRanges(numLayers: memory.model.numLayers)
    }

    /// The same layout at the device's alone rates (`GPUSpec.alone`); nil when it has none.
    public var alone: CostModel? {
        guard let gpu = memory.gpu.runningAlone else { return nil }
        var m = memory
        m.gpu = gpu
        return CostModel(memory: m, layout: layout, cluster: cluster, intraNodeLink: intraNodeLink, interNodeLink: interNodeLink)
    }

    var model: ModelSpec { memory.model }
    var params: ParameterCount { memory.params }
    var gemmPeak: Double { memory.quantization.peakFLOPS(on: memory.gpu) }
    /// Attention runs in 16-bit whatever the weight format.
    var attentionPeak: Double { Quantization.bf16.peakFLOPS(on: memory.gpu) }
    var bandwidth: Double { memory.gpu.memoryBandwidth }

    /// Datasheet peaks are discounted by the efficiency factors; a measured device's rates are achieved ones.
    var gemmEfficiency: Double { memory.gpu.isMeasured ? 1 : Efficiency.gemmCompute }
    var bandwidthEfficiency: Double { memory.gpu.isMeasured ? 1 : Efficiency.memoryBandwidth }

    /// A GPU streams weights and multiplies at once (the slower bounds the GEMM). On a measured
    /// CPU device the same cores unpack and multiply, so how much of the smaller time hides under
    /// the larger depends on the kernels: a fitted share of it adds (`gemmSerialFraction`). With
    /// session 3's kernels the two added (pp 2: a 4-row decode step took 95 ms on the head stage,
    /// 1-row 33 ms; a max() predicted 55); with the repacked and VNNI kernels a decode step is
    /// nearly flat up to 4 rows (Zen 5, default model: 6.6, 7.5, 9.0 ms at 1, 2, 4 rows, 14.9 at
    /// 8, 60 at 32), which a sum, a straight line from 1 to 32 rows, over-states by 25-30%.
    func gemm(flops: Double, weightBytes: Double) -> Double {
        let compute = flops / (gemmPeak * gemmEfficiency), stream = weightBytes / (bandwidth * bandwidthEfficiency)
        guard memory.gpu.isMeasured else { return max(compute, stream) }
        return max(compute, stream) + (memory.gpu.gemmSerialFraction ?? 1) * min(compute, stream)
    }

    public func stageCosts(_ batch: [BatchSlice]) -> [StageCost] {
        (0..<layout.pp).map { stageCost(stage: $0, batch: batch) }
    }

    public func stageTimes(_ batch: [BatchSlice]) -> [Double] { stageCosts(batch).map(\.total) }

    public func stageCost(stage: Int, batch: [BatchSlice]) -> StageCost {
        let tokens = Double(batch.reduce(0) { $0 + $1.newTokens })
        let tp = Double(layout.tp)
        let wb = memory.quantization.bytesPerWeight
        let p = params
        var cost = StageCost()
        let attentionLayer = attentionTime(batch)
        for layer in stageRanges[stage] {
            let projections = p.attentionSharded / tp + p.attentionReplicated
            cost.gemm += gemm(flops: 2 * tokens * projections, weightBytes: projections * wb)
            if model.isMoELayer(layer) {
                cost.gemm += moeTime(tokens: tokens)
                cost.communication += expertAllToAll(tokens: tokens)
            } else {
                cost.gemm += gemm(flops: 2 * tokens * p.denseMLP / tp, weightBytes: p.denseMLP / tp * wb)
            }
            cost.attention += attentionLayer
            // Row-parallel attention output and MLP down-projection each end in an all-reduce.
            cost.communication += 2 * allReduce(bytes: tokens * Double(model.hiddenSize * Overheads.activationBytesPerElement))
        }
        // A measured device's timings already hold the engine's host time per step; what grows
        // with the sampled rows is its fitted row cost, paid where sampling runs.
        cost.overhead = memory.gpu.isMeasured ? 0 : Overheads.perStepSeconds
        if stage == layout.pp - 1 {
            // Logits only for the rows that sample (vLLM prunes the rest before the LM head).
            let rows = Double(batch.filter(\.samples).count)
            let headParams = Double(model.vocabSize * model.hiddenSize) / tp
            cost.gemm += gemm(flops: 2 * rows * headParams * gemmPeak / attentionPeak,
                              weightBytes: headParams * Overheads.embeddingBytesPerWeight)
            if memory.gpu.isMeasured { cost.overhead += rows * (memory.gpu.sampledRowSeconds ?? 0) }
        }
        return cost
    }

    /// One layer's attention core: read every attended token's K/V (the rank's heads), and
    /// for prefill the Q·Kᵀ and P·V products over a causal triangle.
    func attentionTime(_ batch: [BatchSlice]) -> Double {
        let tp = Double(layout.tp)
        let kvBytesPerToken = Double(model.kvElementsPerTokenPerLayer(tp: layout.tp) * memory.kvBytesPerElement)
        // MLA attends in the latent space (weights absorbed): keys are latent+rope wide, values latent wide.
        let qkWidth = model.usesMLA ? Double((model.kvLoraRank ?? 0) + (model.qkRopeHeadDim ?? 0)) : Double(model.queryHeadDim)
        let vWidth = model.usesMLA ? Double(model.kvLoraRank ?? 0) : Double(model.valueHeadDim)
        let heads = Double(model.numAttentionHeads) / tp
        var bytes = 0.0, flops = 0.0
        for slice in batch {
            let n = Double(slice.newTokens), context = Double(slice.contextLength)
            bytes += context * kvBytesPerToken
            let meanContext = context - (n - 1) / 2
            flops += 2 * n * meanContext * heads * (qkWidth + vWidth)
        }
        // A measured device's rates already include its kernels' efficiency (and its time adds, as in gemm()).
        guard !memory.gpu.isMeasured else { return flops / attentionPeak + bytes / bandwidth }
        return max(flops / (attentionPeak * Efficiency.attentionCompute), bytes / (bandwidth * Efficiency.attentionMemory))
    }

    /// Routed and shared experts of one MoE layer on one GPU. FLOPs come to tokens·k experts at
    /// 1/tp width either way (with EP = tp·dp every GPU also serves the other replicas' tokens);
    /// weight traffic is the experts actually touched: of E experts each hit with probability
    /// 1 − (1 − k/E)^tokens.
    func moeTime(tokens: Double) -> Double {
        let p = params
        let tp = Double(layout.tp), wb = memory.quantization.bytesPerWeight
        let e = Double(p.numExperts), k = Double(p.expertsPerToken)
        let routedFlops = 2 * tokens * k * p.expert / tp
        let touchedBytes: Double
        if layout.ep > 1 {
            let local = Double((p.numExperts + layout.ep - 1) / layout.ep)
            let arriving = tokens * Double(layout.dp)
            touchedBytes = local * (1 - pow1m(k / e, arriving)) * p.expert * wb
        } else {
            touchedBytes = e * (1 - pow1m(k / e, tokens)) * p.expert / tp * wb
        }
        let routed = gemm(flops: routedFlops, weightBytes: touchedBytes)
        let shared = gemm(flops: 2 * tokens * p.sharedExperts / tp, weightBytes: p.sharedExperts / tp * wb)
        let router = gemm(flops: 2 * tokens * p.router, weightBytes: p.router * wb)
        return routed + shared + router
    }

    /// (1 − x)^n for real n; log1p keeps it accurate when k/E is small.
    private func pow1m(_ x: Double, _ n: Double) -> Double {
        guard n > 0, x > 0 else { return 1 }
        guard x < 1 else { return 0 }
        return exp(n * log1p(-x))
    }

    var tensorParallelLink: LinkSpec { layout.tensorParallelSpansNodes(cluster) ? interNodeLink : intraNodeLink }

    /// Ring all-reduce: 2(tp−1) steps each moving bytes/tp over one link, plus the link's latency
    /// once. The catalog's latency is the minimum time of one small collective (llm-analysis's
    /// `intra_node_min_message_latency`), not of one ring hop: NCCL's low-latency protocol
    /// pipelines the hops, and charging 8 µs per hop would put 112 µs on every TP=8 all-reduce,
    /// several times what NCCL measures on NVLink.
    public func allReduce(bytes: Double) -> Double {
        guard layout.tp > 1 else { return 0 }
        let tp = Double(layout.tp), link = tensorParallelLink
        return 2 * (tp - 1) / tp * bytes / (link.bandwidth * Efficiency.link) + link.latency
    }

    /// Dispatch and combine of an MoE layer under EP: each token's hidden state goes to k
    /// experts, (ep−1)/ep of them on other GPUs, and comes back.
    func expertAllToAll(tokens: Double) -> Double {
        guard layout.ep > 1 else { return 0 }
        let link = layout.expertParallelSpansNodes(cluster) ? interNodeLink : intraNodeLink
        let ep = Double(layout.ep)
        let bytes = tokens * Double(params.expertsPerToken * model.hiddenSize * Overheads.activationBytesPerElement) * (ep - 1) / ep
        return 2 * (bytes / (link.bandwidth * Efficiency.link) + link.latency)
    }

    /// Hand-off of a batch's hidden states from `stage` to the next: a delay, not busy time.
    public func pipelineSendTime(afterStage stage: Int, tokens: Int) -> Double {
        guard stage < layout.pp - 1 else { return 0 }
        let spans = layout.pipelineHopSpansNodes(after: stage, cluster)
        let link = spans ? interNodeLink : intraNodeLink
        let bytes = Double(tokens * model.hiddenSize * Overheads.activationBytesPerElement)
        return bytes / (link.bandwidth * Efficiency.link) + hopLatency(link: link, spansNodes: spans)
    }

    /// The engine's hand-off of a batch to its devices, and of the sampled tokens back to it: a
    /// measured host device's parked hand-off when the layout has more than one device (with one,
    /// the engine thread runs the model itself). Datasheet GPUs: 0, their per-step overhead
    /// holds the host's work.
    public var engineHandoffTime: Double {
        guard layout.tp * layout.pp > 1 else { return 0 }
        return memory.gpu.parkedHandoffSeconds ?? 0
    }

    /// Within a host, a measured device's parked hand-off where it has one, else the link's latency.
    private func hopLatency(link: LinkSpec, spansNodes: Bool) -> Double {
        guard !spansNodes, let handoff = memory.gpu.parkedHandoffSeconds else { return link.latency }
        return max(link.latency, handoff)
    }
}
