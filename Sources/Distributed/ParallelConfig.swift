import Compute
import ModelFormats
import Models

/// `--tensor-parallel-size` × `--pipeline-parallel-size` devices, one worker process each.
/// Ranks are laid out PP × TP with TP innermost (vLLM's order), so a stage's tensor-parallel
/// group is a run of consecutive ranks. (Data parallel replicas sit outside, behind a router.)
public struct ParallelConfig: Sendable, Codable, Equatable {
    public var tensorParallelSize = 1
    public var pipelineParallelSize = 1
    /// `--pp-layer-partition`: layers per stage, overriding the even split.
    public var layerPartition: [Int]?
    /// `--enable-expert-parallel`: a stage's tensor-parallel ranks split a mixture of experts'
    /// experts between them (each held whole) instead of slicing every expert; no effect on a
    /// dense model, as in vLLM.
    public var enableExpertParallel = false

    public init(tensorParallelSize: Int = 1, pipelineParallelSize: Int = 1, layerPartition: [Int]? = nil,
                enableExpertParallel: Bool = false) {
        self.tensorParallelSize = tensorParallelSize
        self.pipelineParallelSize = pipelineParallelSize
        self.layerPartition = layerPartition
        self.enableExpertParallel = enableExpertParallel
    }

    public var worldSize: Int { tensorParallelSize * pipelineParallelSize }
    public func stage(ofRank rank: Int) -> Int { rank / tensorParallelSize }
    public func tpRank(ofRank rank: Int) -> Int { rank % tensorParallelSize }
    public func rank(stage: Int, tpRank: Int) -> Int { stage * tensorParallelSize + tpRank }
    /// World ranks of `rank`'s tensor-parallel group, in group order.
    public func tensorParallelGroup(ofRank rank: Int) -> [Int] {
        let first = stage(ofRank: rank) * tensorParallelSize
        return Array(first..<(first + tensorParallelSize))
    }
    /// The rank that samples: the last stage's tensor-parallel rank 0.
    public var samplingRank: Int { rank(stage: pipelineParallelSize - 1, tpRank: 0) }

    /// Checks the layout against the model; the errors name the flag and the valid values.
    public func validate(for config: ModelConfig) throws -> [Range<Int>] {
        guard tensorParallelSize >= 1 else { throw ShardPlanError.invalidTensorParallel(tp: tensorParallelSize, heads: config.numHeads, kvHeads: config.numKVHeads, valid: ShardPlan.validTensorParallelSizes(config)) }
        try ShardPlan.checkTensorParallel(tensorParallelSize, config: config)
        if enableExpertParallel, config.numExperts > 0, tensorParallelSize > config.numExperts {
            throw ShardPlanError.tooManyExpertRanks(tp: tensorParallelSize, experts: config.numExperts)
        }
        return try ShardPlan.stageLayers(numLayers: config.numLayers, stages: pipelineParallelSize, partition: layerPartition)
    }

    /// What `rank` holds of a model with this config.
    public func plan(rank: Int, config: ModelConfig, group: (any TensorParallelGroup)?) throws -> ShardPlan {
        let stages = try validate(for: config)
        return ShardPlan(numLayers: config.numLayers, layers: stages[stage(ofRank: rank)], tensorParallel: group,
                         expertParallel: enableExpertParallel && config.numExperts > 0 && tensorParallelSize > 1)
    }

    /// The links a rank's stage uses: same tensor-parallel slice, previous and next stage.
    public func links(rank: Int, communicator: any Communicator) -> StageLinks? {
        guard pipelineParallelSize > 1 else { return nil }
        let s = stage(ofRank: rank), t = tpRank(ofRank: rank)
        return StageLinks(communicator: communicator,
                          previous: s > 0 ? self.rank(stage: s - 1, tpRank: t) : nil,
                          next: s < pipelineParallelSize - 1 ? self.rank(stage: s + 1, tpRank: t) : nil)
    }
}
