/// Architectures Shardline can load. The raw values are HF `model_type`s.
public enum ModelArchitecture: String, Sendable, CaseIterable {
    case llama, mistral, qwen2, mixtral, gemma3
}

/// The shape of a decoder-only transformer, read from HF `config.json` (or GGUF metadata later).
/// One flat value type: every model family reads the fields it needs.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: ModelArchitecture
    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var numKVHeads: Int
    public var headDim: Int
    public var intermediateSize: Int
    public var vocabSize: Int
    public var rmsNormEps: Float
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool
    public var attentionBias: Bool
    public var mlpBias: Bool
    public var hiddenAct: String
    /// Window of sliding-attention layers; nil when every layer attends to the whole context.
    public var slidingWindow: Int?
    /// Per-layer attention kind; all `.full` unless the model interleaves sliding layers.
    public var layerTypes: [AttentionKind]
    /// RoPE base for sliding layers where it differs from `ropeTheta` (Gemma 3: 10k local, 1M global).
    public var ropeLocalTheta: Double?
    /// Mixture of experts: experts per MoE layer and how many each token uses (0 when dense).
    public var numExperts: Int
    public var numExpertsPerToken: Int
    /// Gemma 3 attention scale is 1/sqrt(queryPreAttnScalar) rather than 1/sqrt(headDim).
    public var queryPreAttnScalar: Double?
    public var finalLogitSoftcapping: Double?
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]

    public var isMoE: Bool { numExperts > 0 }
    public var attentionScale: Float {
        Float(1.0 / (queryPreAttnScalar ?? Double(headDim)).squareRoot())
    }
    /// Cached positions a query row at `context` positions reads, summed over `layers`: a
    /// sliding layer reads at most its window.
    public func kvPositionsRead(context: Int, layers: Range<Int>) -> Int {
        layers.reduce(0) { sum, layer in
            sum + min(context, layerTypes[layer] == .sliding ? slidingWindow ?? context : context)
        }
    }

    public var qSize: Int { numHeads * headDim }
    public var kvSize: Int { numKVHeads * headDim }
}
