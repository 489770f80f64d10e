import Engine

/// The planner's own machinery, wrapped for the claims checks: memory plans, layout fit,
/// minimum GPU counts and simulations, all with the same defaults so the checks compare alike.
struct ClaimsKit {
    let catalog: Catalog

    /// vLLM's default `--gpu-memory-utilization`; no claim states another.
    static let utilization = 0.9
    /// The KV every "does it fit" answer must leave room for: one 8192-token sequence (Llama 3's
    /// native context and M9's), since a model that fits with no KV cannot serve a request.
    static let minKVTokens = 8192
    /// The simulated request shape (`shardline plan`'s default prompt/output lengths).
    static let prompt = 512
    static let output = 128

    func model(_ id: String) throws -> ModelSpec { try catalog.model(id) }
    func gpu(_ id: String) throws -> GPUSpec { try catalog.gpu(id) }
    func link(_ id: String) throws -> LinkSpec { try catalog.link(id) }

    func memory(_ model: ModelSpec, _ gpu: GPUSpec, _ q: Quantization, kvBytes: Int = 2) -> MemoryModel {
        MemoryModel(model: model, gpu: gpu, quantization: q, kvBytesPerElement: kvBytes, utilization: Self.utilization)
    }

    /// The same GPU with memory no model fills: compute, bandwidth and links unchanged. Isolates
    /// the shape rules (L1, L2) and gives a scaling baseline a TP=1 that capacity alone forbids (T1).
    func unbounded(_ gpu: GPUSpec) -> GPUSpec {
        var g = gpu
        g.memoryBytes = 1 << 50
        return g
    }

    /// Layouts of `cluster` the enumerator accepts (shape and memory, with `minKVTokens` of KV), with their plans.
    func fitting(_ memory: MemoryModel, _ cluster: Cluster, maxModelLen: Int = minKVTokens) -> [(layout: ParallelLayout, plan: MemoryPlan)] {
        let enumerator = LayoutEnumerator(memory: memory, cluster: cluster, maxModelLen: maxModelLen)
        return enumerator.layouts().compactMap { layout in
            let plan = memory.plan(layout, maxModelLen: maxModelLen)
            return enumerator.rejection(layout, plan: plan) == nil ? (layout, plan) : nil
        }
    }

    /// Why the enumerator rejects `layout` (nil: it fits).
    func rejection(_ memory: MemoryModel, _ layout: ParallelLayout, cluster: Cluster, maxModelLen: Int = minKVTokens) -> String? {
        LayoutEnumerator(memory: memory, cluster: cluster, maxModelLen: maxModelLen)
            .rejection(layout, plan: memory.plan(layout, maxModelLen: maxModelLen))
    }

    /// The fewest GPUs of one node whose single replica (DP=1) fits, and the layout; nil when none
    /// up to `limit` does. `pipeline: false` keeps to TP-only layouts.
    func minimumGPUs(_ memory: MemoryModel, pipeline: Bool = true, limit: Int = 32) -> (count: Int, layout: ParallelLayout, plan: MemoryPlan)? {
        for n in 1...limit {
            let fits = fitting(memory, Cluster(gpusPerNode: n)).filter { $0.layout.dp == 1 && (pipeline || $0.layout.pp == 1) }
            // Among equal counts, the one that leaves the most KV.
            if let best = fits.max(by: { $0.plan.kvCapacityTokensPerReplica < $1.plan.kvCapacityTokensPerReplica }) {
                return (n, best.layout, best.plan)
            }
        }
        return nil
    }

    /// The cost model of `layout`; links default to the GPU's own (`Catalog.intraNodeLink`) and
    /// the catalog's default between nodes, as `shardline plan` picks them.
    func costModel(_ memory: MemoryModel, _ layout: ParallelLayout, cluster: Cluster,
                   intraNodeLink: LinkSpec? = nil, interNodeLink: LinkSpec? = nil) throws -> CostModel {
        CostModel(memory: memory, layout: layout, cluster: cluster,
                  intraNodeLink: intraNodeLink ?? catalog.intraNodeLink(for: memory.gpu),
                  interNodeLink: try interNodeLink ?? link(Catalog.defaultInterNodeLinkId))
    }

    /// One replica of `layout` (DP=1) through the real EngineCore on the SimulatedExecutor: a
    /// closed loop at `concurrency`, three rounds of `prompt`/`output`-token requests.
    func simulate(_ memory: MemoryModel, _ layout: ParallelLayout, cluster: Cluster, concurrency: Int,
                  intraNodeLink: LinkSpec? = nil, interNodeLink: LinkSpec? = nil, requests: Int? = nil) throws -> SimulationReport {
        let maxLen = Self.minKVTokens
        let plan = memory.plan(layout, maxModelLen: maxLen)
        guard plan.kvCapacityTokensPerReplica >= Self.prompt + Self.output else {
            throw PlannerError.invalidRequest("\(memory.model.id) on \(memory.gpu.id) \(layout) holds no KV for one request")
        }
        var config = SchedulerConfig()
        // The pool never needs more than every request in flight at full length (4× for slack);
        // an unbounded GPU would otherwise ask the engine for billions of blocks.
        let needed = concurrency * ((Self.prompt + Self.output + config.blockSize - 1) / config.blockSize)
        let blocks = min(plan.numBlocksPerReplica, 4 * needed)
        // The engine refuses a max-model-len its pool cannot hold once; these requests are short.
        config.maxModelLen = min(maxLen, blocks * config.blockSize)
        let cost = try costModel(memory, layout, cluster: cluster, intraNodeLink: intraNodeLink, interNodeLink: interNodeLink)
        let workload = Workload(numRequests: requests ?? max(3 * concurrency, 8), arrivals: .closedLoop(concurrency: concurrency),
                                promptLength: .fixed(Self.prompt), outputLength: .fixed(Self.output))
        return try Simulator(costModel: cost, scheduler: config, numBlocks: blocks).run(workload)
    }
}

extension SimulationReport {
    /// Decode speed one request sees: the inverse of its mean time per output token.
    var perRequestTokensPerSecond: Double { tpot.mean > 0 ? 1 / tpot.mean : 0 }
}

extension ParallelLayout {
    /// "TP=4 PP=2", with DP and EP only when used.
    var short: String {
        var s = "TP=\(tp) PP=\(pp)"
        if dp > 1 { s += " DP=\(dp)" }
        if ep > 1 { s += " EP=\(ep)" }
        return s
    }
}
