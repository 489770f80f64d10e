/// How a data-parallel front end picks the replica that serves a request.
public enum RoutingPolicy: String, Sendable, CaseIterable, Codable {
    /// Replicas in turn, whatever they hold or how busy they are.
    case roundRobin = "round-robin"
    /// The replica with the fewest unfinished requests.
    case leastLoaded = "least-loaded"
    /// The replica that was sent the longest run of the prompt's leading blocks (so its prefix
    /// cache likely still holds them), unless it is much busier than the least loaded.
    case prefixAware = "prefix-aware"
}

/// Picks a replica per request for data parallelism. Prefix-aware routing keeps, per replica,
/// the chained block hashes (the prefix cache's own `BlockHash`) of the prompts it was sent,
/// bounded to about what that replica's KV cache holds, oldest forgotten first: a router's
/// guess of each cache, as SGLang's cache-aware router keeps an approximate radix tree.
public struct ReplicaRouter: Sendable {
    public let replicas: Int
    public let policy: RoutingPolicy
    public let blockSize: Int
    /// Blocks remembered per replica: about its KV cache's capacity.
    public let rememberedBlocks: Int
    /// Prefix-aware: a matching replica is passed over when it has more than this many unfinished
    /// requests above the least loaded; a cache hit does not pay for a long queue.
    public var maxImbalance: Int

    private var nextRoundRobin = 0
    private var tick: UInt64 = 0
    /// Per replica: block hash value → last time it was routed there.
    private var remembered: [[UInt64: UInt64]]

    public init(replicas: Int, policy: RoutingPolicy, blockSize: Int = 16, rememberedBlocks: Int = 1 << 16, maxImbalance: Int = 16) {
        precondition(replicas > 0 && blockSize > 0 && rememberedBlocks > 0, "a router needs replicas, a block size and room to remember")
        self.replicas = replicas
        self.policy = policy
        self.blockSize = blockSize
        self.rememberedBlocks = rememberedBlocks
        self.maxImbalance = maxImbalance
        remembered = Array(repeating: [:], count: replicas)
    }

    /// The replica for a prompt, given each replica's unfinished requests now.
    public mutating func route(_ promptTokenIds: [Int], loads: [Int]) -> Int {
        precondition(loads.count == replicas, "one load per replica")
        switch policy {
        case .roundRobin:
            defer { nextRoundRobin = (nextRoundRobin + 1) % replicas }
            return nextRoundRobin
        case .leastLoaded:
            return leastLoaded(loads)
        case .prefixAware:
            let hashes = blockHashes(promptTokenIds)
            let least = leastLoaded(loads)
            var best = least, bestRun = 0
            for r in 0..<replicas {
                let run = hashes.prefix { remembered[r][$0] != nil }.count
                if run > bestRun || (run == bestRun && run > 0 && loads[r] < loads[best]) { best = r; bestRun = run }
            }
            let chosen = bestRun > 0 && loads[best] - loads[least] <= maxImbalance ? best : least
            remember(hashes, at: chosen)
            return chosen
        }
    }

    /// The fewest unfinished requests; ties go round the replicas, so an idle group fills evenly.
    private mutating func leastLoaded(_ loads: [Int]) -> Int {
        let low = loads.min()!
        var r = nextRoundRobin
        while loads[r] != low { r = (r + 1) % replicas }
        nextRoundRobin = (r + 1) % replicas
        return r
    }

    private func blockHashes(_ tokens: [Int]) -> [UInt64] {
        var parent: BlockHash?
        var hashes: [UInt64] = []
        hashes.reserveCapacity(tokens.count / blockSize)
        var start = 0
        while start + blockSize <= tokens.count {
            let h = BlockHash(parent: parent, tokens: Array(tokens[start..<start + blockSize]))
            hashes.append(h.value)
            parent = h
            start += blockSize
        }
        return hashes
    }

    private mutating func remember(_ hashes: [UInt64], at r: Int) {
        for h in hashes { tick += 1; remembered[r][h] = tick }
        // Forget the oldest quarter at once when over the bound: amortized O(log n) per block.
        if remembered[r].count > rememberedBlocks + rememberedBlocks / 4 {
            let cut = remembered[r].values.sorted()[remembered[r].count - rememberedBlocks]
            remembered[r] = remembered[r].filter { $0.value >= cut }
        }
    }
}
