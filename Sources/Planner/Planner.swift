import Engine

/// `shardline plan`: memory per GPU, every layout's fit, a simulation of each that fits, and a
/// recommendation.
public struct Planner: Sendable {
    public var catalog: Catalog

    public init(catalog: Catalog = .builtIn) { self.catalog = catalog }

    public func plan(_ request: PlanRequest) throws -> PlanReport {
        guard request.cluster.totalGPUs > 0 else { throw PlannerError.invalidRequest("at least one GPU is needed") }
        guard request.concurrency > 0 else { throw PlannerError.invalidRequest("--concurrency must be positive") }
        let memory = request.memoryModel
        let maxLen = request.effectiveMaxModelLen
        let intra = request.intraNodeLink ?? catalog.intraNodeLink(for: request.gpu)
        let enumerator = LayoutEnumerator(memory: memory, cluster: request.cluster, maxModelLen: maxLen)
        var rows: [LayoutRow] = []
        for layout in enumerator.layouts() {
            let plan = memory.plan(layout, maxModelLen: maxLen)
            let spans = layout.tensorParallelSpansNodes(request.cluster)
            let perReplica = (request.concurrency + layout.dp - 1) / layout.dp
            var row = LayoutRow(layout: layout, fits: false, reason: "", tensorParallelSpansNodes: spans, memory: plan,
                                concurrencyPerReplica: perReplica)
            if let why = enumerator.rejection(layout, plan: plan) {
                row.reason = why
            } else {
                row.fits = true
                row.reason = placementNote(layout, cluster: request.cluster, spans: spans)
                if request.simulate {
                    let cost = CostModel(memory: memory, layout: layout, cluster: request.cluster,
                                         intraNodeLink: intra, interNodeLink: request.interNodeLink)
                    let report = try simulate(request, cost: cost, numBlocks: plan.numBlocksPerReplica, concurrency: perReplica)
                    row.simulation = report
                    row.outputTokensPerSecond = report.outputTokenThroughput * Double(layout.dp)
                }
            }
            rows.append(row)
        }
        let shape = request.requestShape
        return PlanReport(
            model: request.model.id, gpu: request.gpu.id, quantization: request.quantization, cluster: request.cluster,
            maxModelLen: maxLen, concurrency: request.concurrency, utilization: request.utilization,
            promptTokens: shape.prompt, outputTokens: shape.output, intraNodeLink: intra.id, interNodeLink: request.interNodeLink.id,
            totalWeightBytes: memory.totalWeightBytes,
            kvBytesPerToken: request.model.kvBytesPerToken(bytesPerElement: request.kvBytesPerElement),
            kvBytesPerRequest: request.model.kvBytesPerToken(bytesPerElement: request.kvBytesPerElement) * maxLen,
            rows: rows, recommendation: Self.recommend(rows, request: request), assumptions: Self.assumptions)
    }

    /// A closed loop at the replica's share of the concurrency, three rounds of requests. The
    /// requests are alike and share no prefix, so every routing policy gives each replica the same
    /// load and one replica's simulation stands for all (`simulate -dp` runs them all, for
    /// workloads where routing matters).
    func simulate(_ request: PlanRequest, cost: CostModel, numBlocks: Int, concurrency: Int) throws -> SimulationReport {
        var config = SchedulerConfig()
        config.maxModelLen = request.effectiveMaxModelLen
        config.maxNumBatchedTokens = request.maxNumBatchedTokens
        config.maxNumSeqs = request.maxNumSeqs
        config.blockSize = request.blockSize
        let shape = request.requestShape
        let workload = Workload(numRequests: max(3 * concurrency, 8), arrivals: .closedLoop(concurrency: concurrency),
                                promptLength: .fixed(shape.prompt), outputLength: .fixed(shape.output))
        return try Simulator(costModel: cost, scheduler: config, numBlocks: numBlocks).run(workload)
    }

    func placementNote(_ layout: ParallelLayout, cluster: Cluster, spans: Bool) -> String {
        var notes: [String] = []
        if spans { notes.append("TP spans nodes: all-reduces cross the inter-node link") }
        if layout.pp > 1, (0..<(layout.pp - 1)).contains(where: { layout.pipelineHopSpansNodes(after: $0, cluster) }) {
            notes.append("PP hops cross nodes")
        }
        if layout.expertParallelSpansNodes(cluster) { notes.append("EP all-to-all crosses nodes") }
        return notes.isEmpty ? "fits" : "fits; " + notes.joined(separator: "; ")
    }

    /// The rule: the smallest TP that fits inside one node (and holds its share of the
    /// load's KV), the remaining GPUs as DP replicas rather than PP stages; when no node-local TP
    /// fits, TP across a whole node and PP across nodes. Among EP on/off, the faster simulation.
    static func recommend(_ rows: [LayoutRow], request: PlanRequest) -> Recommendation? {
        let fitting = rows.filter(\.fits)
        guard !fitting.isEmpty else { return nil }
        let shape = request.requestShape
        func holdsLoad(_ r: LayoutRow) -> Bool {
            r.memory.kvCapacityTokensPerReplica >= r.concurrencyPerReplica * (shape.prompt + shape.output)
        }
        func fastest(_ rows: [LayoutRow]) -> LayoutRow {
            rows.max { ($0.outputTokensPerSecond ?? 0) < ($1.outputTokensPerSecond ?? 0) }!
        }
        let gpn = request.cluster.gpusPerNode
        let nodeLocal = fitting.filter { $0.layout.pp == 1 && !$0.tensorParallelSpansNodes }
        let roomy = nodeLocal.filter(holdsLoad)
        if let smallestTP = (roomy.isEmpty ? nodeLocal : roomy).map(\.layout.tp).min() {
            let pick = fastest((roomy.isEmpty ? nodeLocal : roomy).filter { $0.layout.tp == smallestTP })
            let l = pick.layout
            var why = "smallest TP that fits in one node: TP=\(l.tp) leaves \(gib(pick.memory.stages[0].kvCacheBytes)) per GPU for KV (\(pick.memory.kvCapacityTokensPerReplica) tokens per replica)"
            if roomy.isEmpty {
                why += ", though not enough for \(pick.concurrencyPerReplica) requests of \(shape.prompt + shape.output) tokens at once (expect queueing or preemption)"
            } else if let smaller = nodeLocal.map(\.layout.tp).min(), smaller < l.tp {
                why += "; TP=\(smaller) fits but cannot hold \((request.concurrency + l.dp - 1) / l.dp) concurrent requests' KV"
            }
            if l.dp > 1 { why += "; the other GPUs serve as DP=\(l.dp) replicas (DP before PP: no pipeline bubbles or stage hand-offs)" }
            if l.ep > 1 { why += "; expert parallel on (EP=\(l.ep)): the faster of EP on and off at this TP in simulation, or the only one that holds the load" }
            return Recommendation(layout: l, reason: why + fasterAlternative(to: pick, among: fitting))
        }
        let acrossNodes = fitting.filter { !$0.tensorParallelSpansNodes && $0.layout.tp == gpn && $0.layout.pp > 1 }
        if let smallestPP = acrossNodes.map(\.layout.pp).min() {
            let pick = fastest(acrossNodes.filter { $0.layout.pp == smallestPP })
            let l = pick.layout
            var why = "no single-node TP fits; TP=\(l.tp) within each node and PP=\(l.pp) across nodes (a stage hand-off sends one hidden state per token, where TP across nodes would all-reduce twice per layer over the slower link)"
            if l.dp > 1 { why += "; DP=\(l.dp) replicas for the remaining GPUs" }
            return Recommendation(layout: l, reason: why + fasterAlternative(to: pick, among: fitting))
        }
        let pick = fastest(fitting)
        return Recommendation(layout: pick.layout, reason: "only layouts outside the node-local rules fit; highest simulated throughput")
    }

    /// The rule favours memory headroom and independence of replicas; at low concurrency a wider
    /// TP can be much faster (decode streams weights, and one wide replica streams them once for
    /// every request). Say so when the simulation disagrees by more than 20%.
    static func fasterAlternative(to pick: LayoutRow, among fitting: [LayoutRow]) -> String {
        guard let mine = pick.outputTokensPerSecond, mine > 0,
              let best = fitting.max(by: { ($0.outputTokensPerSecond ?? 0) < ($1.outputTokensPerSecond ?? 0) }),
              let theirs = best.outputTokensPerSecond, theirs > 1.2 * mine else { return "" }
        return ". Note: \(best.layout) simulates \(format(theirs / mine, 1))× the output throughput at this concurrency (\(format(theirs, 0)) vs \(format(mine, 0)) tokens/s); prefer it when the load stays this low"
    }

    static let assumptions: [String] = [
        "GPU memory is the vendor label in GiB; usable = label × --gpu-memory-utilization",
        "activations: one layer's live tensors for \u{2264}max-num-batched-tokens at 16 bits + fp32 logits for max-num-seqs rows + \(Overheads.nonTorchBytes >> 30) GiB non-torch memory",
        "embedding and LM head stay 16-bit under fp8/int8/q4; q4 = 4.5 bits per weight",
        "efficiency: GEMM \(Efficiency.gemmCompute) of peak FLOPs, \(Efficiency.memoryBandwidth) of HBM bandwidth; attention \(Efficiency.attentionMemory) of bandwidth, \(Efficiency.attentionCompute) of FLOPs; links \(Efficiency.link); \(Overheads.perStepSeconds * 1000) ms per step",
        "EP is off (experts TP-sharded) or EP = TP·DP (vLLM --enable-expert-parallel)",
        "simulation: one replica in a closed loop at ⌈concurrency/DP⌉ requests; throughput × DP",
    ]
}
