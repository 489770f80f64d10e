import Compute
import ModelFormats

/// Which part of the model this device holds: a contiguous run of layers (its pipeline stage)
/// and a 1/tp slice of every layer's heads, MLP columns and vocabulary (its tensor-parallel
/// rank); with expert parallelism, a 1/tp share of whole experts instead of a slice of each.
/// Models are written once against it; the single-device plan holds everything.
public struct ShardPlan: Sendable {
    public let numLayers: Int
    public let layers: Range<Int>
    public let tensorParallel: (any TensorParallelGroup)?
    /// `--enable-expert-parallel`: the tensor-parallel ranks split the experts between them.
    public let expertParallel: Bool

    public init(numLayers: Int, layers: Range<Int>? = nil, tensorParallel: (any TensorParallelGroup)? = nil, expertParallel: Bool = false) {
        self.numLayers = numLayers
        self.layers = layers ?? 0..<numLayers
        self.tensorParallel = tensorParallel
        self.expertParallel = expertParallel
    }

    public static func whole(_ config: ModelConfig) -> ShardPlan { ShardPlan(numLayers: config.numLayers) }

    public var tpRank: Int { tensorParallel?.rank ?? 0 }
    public var tpSize: Int { tensorParallel?.size ?? 1 }
    public var isFirstStage: Bool { layers.lowerBound == 0 }
    public var isLastStage: Bool { layers.upperBound == numLayers }

    /// This rank's contiguous share of `n` (heads, columns, vocabulary rows); the remainder goes
    /// to the first ranks.
    public func slice(_ n: Int) -> Range<Int> {
        let base = n / tpSize, extra = n % tpSize
        let start = tpRank * base + min(tpRank, extra)
        return start..<(start + base + (tpRank < extra ? 1 : 0))
    }

    /// The experts this rank holds: a contiguous share under expert parallelism, else all.
    public func experts(_ count: Int) -> Range<Int> { expertParallel ? slice(count) : 0..<count }

    /// This rank's columns of an expert's (or the MLP's) intermediate size; nil: all of them.
    /// Under expert parallelism a rank holds its experts whole.
    public func expertColumns(_ intermediate: Int) -> Range<Int>? {
        tpSize == 1 || expertParallel ? nil : slice(intermediate)
    }

    /// Attention heads of this rank (tp divides the heads).
    public func queryHeads(_ config: ModelConfig) -> Range<Int> { slice(config.numHeads) }

    /// KV heads of this rank: a slice when tp ≤ KV heads, otherwise the one head its query heads
    /// read, replicated on tp / KV ranks.
    public func kvHeads(_ config: ModelConfig) -> Range<Int> {
        guard tpSize > config.numKVHeads else { return slice(config.numKVHeads) }
        let head = tpRank * config.numKVHeads / tpSize
        return head..<(head + 1)
    }

    /// Tensor-parallel sizes this model can be cut into: tp must divide the attention heads, and
    /// divide or be a multiple of the KV heads.
    public static func validTensorParallelSizes(_ config: ModelConfig) -> [Int] {
        (1...config.numHeads).filter { tp in
            config.numHeads % tp == 0 && (config.numKVHeads % tp == 0 || tp % config.numKVHeads == 0)
        }
    }

    public static func checkTensorParallel(_ tp: Int, config: ModelConfig) throws(ShardPlanError) {
        let valid = validTensorParallelSizes(config)
        guard valid.contains(tp) else {
            throw .invalidTensorParallel(tp: tp, heads: config.numHeads, kvHeads: config.numKVHeads, valid: valid)
        }
    }

    /// vLLM's `get_pp_indices`: layers split evenly, the remainder given to the stages before the
    /// last (which also runs the final norm and LM head), or an explicit partition.
    public static func stageLayers(numLayers: Int, stages: Int, partition: [Int]? = nil) throws(ShardPlanError) -> [Range<Int>] {
        if let partition {
            guard partition.count == stages, partition.allSatisfy({ $0 > 0 }), partition.reduce(0, +) == numLayers else {
                throw .invalidPartition(partition: partition, stages: stages, layers: numLayers)
            }
            var start = 0
            return partition.map { n in defer { start += n }; return start..<(start + n) }
        }
        guard stages >= 1 && stages <= numLayers else { throw .tooManyStages(stages: stages, layers: numLayers) }
        var sizes = [Int](repeating: numLayers / stages, count: stages)
        let remainder = numLayers % stages
        // The remainder goes to stages before the last, starting from the second-to-last.
        for i in 0..<remainder { sizes[(stages - 2 - i + stages) % stages] += 1 }
        var start = 0
        return sizes.map { n in defer { start += n }; return start..<(start + n) }
    }
}

public enum ShardPlanError: Error, CustomStringConvertible, Equatable {
    case invalidTensorParallel(tp: Int, heads: Int, kvHeads: Int, valid: [Int])
    case invalidPartition(partition: [Int], stages: Int, layers: Int)
    case tooManyStages(stages: Int, layers: Int)
    case tooManyExpertRanks(tp: Int, experts: Int)

    public var description: String {
        switch self {
        case .invalidTensorParallel(let tp, let heads, let kvHeads, let valid):
            "--tensor-parallel-size \(tp) does not divide the model's \(heads) attention heads (\(kvHeads) KV heads); valid sizes: \(valid.map(String.init).joined(separator: ", "))"
        case .invalidPartition(let partition, let stages, let layers):
            "--pp-layer-partition \(partition.map(String.init).joined(separator: ",")) must give \(stages) positive layer counts summing to \(layers)"
        case .tooManyStages(let stages, let layers):
            "--pipeline-parallel-size \(stages) is more than the model's \(layers) layers"
        case .tooManyExpertRanks(let tp, let experts):
            "--enable-expert-parallel: --tensor-parallel-size \(tp) is more than the model's \(experts) experts"
        }
    }
}
