/// How many GPUs, and how they are grouped: `nodes` machines of `gpusPerNode` each.
public struct Cluster: Sendable, Codable, Equatable {
    public var nodes: Int
    public var gpusPerNode: Int

    public init(nodes: Int = 1, gpusPerNode: Int) {
        self.nodes = nodes
        self.gpusPerNode = gpusPerNode
    }

    public var totalGPUs: Int { nodes * gpusPerNode }
    public func node(ofRank rank: Int) -> Int { rank / gpusPerNode }
}

/// One way to spread the model: tensor (tp), pipeline (pp), data (dp) and expert (ep)
/// parallel sizes, tp·pp·dp = GPUs. Ranks are laid out TP innermost, then PP, then DP
/// (rank = d·pp·tp + s·tp + t), as in vLLM, so a TP group shares a node whenever it can.
public struct ParallelLayout: Sendable, Codable, Equatable, Hashable, CustomStringConvertible {
    public var tp: Int
    public var pp: Int
    public var dp: Int
    /// 1, or tp·dp when expert parallel is on (vLLM's `--enable-expert-parallel`).
    public var ep: Int
    /// Layers per stage as the engine's `--pp-layer-partition` gives them; nil for the even split.
    public var layerPartition: [Int]?

    public init(tp: Int = 1, pp: Int = 1, dp: Int = 1, ep: Int = 1, layerPartition: [Int]? = nil) {
        self.tp = tp
        self.pp = pp
        self.dp = dp
        self.ep = ep
        self.layerPartition = layerPartition
    }

    public var gpus: Int { tp * pp * dp }
    public var gpusPerReplica: Int { tp * pp }
    public var description: String {
        "TP=\(tp) PP=\(pp) DP=\(dp) EP=\(ep)" + (layerPartition.map { " (layers \($0.map(String.init).joined(separator: ",")))" } ?? "")
    }

    func rank(replica d: Int, stage s: Int, tpRank t: Int) -> Int { d * pp * tp + s * tp + t }

    /// Layers of each pipeline stage: the explicit partition when it fits the model (pp positive
    /// counts summing to numLayers), else vLLM's `get_pp_indices`, which gives every stage
    /// layers/pp and hands the remainder to the stages before the last, which already
    /// carries the LM head.
    public func stageLayerRanges(numLayers: Int) -> [Range<Int>] {
        var counts = Array(repeating: numLayers / pp, count: pp)
        let remainder = numLayers % pp
        if let p = layerPartition, p.count == pp, p.allSatisfy({ $0 > 0 }), p.reduce(0, +) == numLayers {
            counts = p
        } else if remainder > 0 {
            for i in 2..<(remainder + 2) { counts[(pp - i + pp) % pp] += 1 }
        }
        var ranges: [Range<Int>] = []
        var start = 0
        for c in counts {
            ranges.append(start..<(start + c))
            start += c
        }
        return ranges
    }

    /// True when the TP group of a stage spans machines: then every all-reduce crosses the
    /// inter-node link.
    public func tensorParallelSpansNodes(_ cluster: Cluster) -> Bool {
        cluster.node(ofRank: rank(replica: 0, stage: 0, tpRank: 0)) != cluster.node(ofRank: rank(replica: 0, stage: 0, tpRank: tp - 1))
    }

    /// True when the hand-off from stage s to s+1 crosses machines.
    public func pipelineHopSpansNodes(after stage: Int, _ cluster: Cluster) -> Bool {
        cluster.node(ofRank: rank(replica: 0, stage: stage, tpRank: 0)) != cluster.node(ofRank: rank(replica: 0, stage: stage + 1, tpRank: 0))
    }

    /// True when the expert-parallel group (the GPUs of one stage across all DP replicas) spans machines.
    public func expertParallelSpansNodes(_ cluster: Cluster) -> Bool {
        guard ep > 1 else { return false }
        let nodes = Set((0..<dp).flatMap { d in (0..<tp).map { t in cluster.node(ofRank: rank(replica: d, stage: 0, tpRank: t)) } })
        return nodes.count > 1
    }
}
