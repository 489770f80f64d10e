/// A model's shape, from `Catalog/models.json` or a Hugging Face `config.json`: what the memory
/// math and the cost model need, nothing of the weights themselves.
public struct ModelSpec: Sendable, Codable, Equatable {
    public struct ComputedCount: Sendable, Codable, Equatable {
        public var total: Double
        public var active: Double
    }

    public var id: String
    public var name: String
    public var architecture: String
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numLayers: Int
    public var numAttentionHeads: Int
    public var numKVHeads: Int
    /// Null for MLA models, whose query/key and value head widths differ.
    public var headDim: Int?
    public var vocabSize: Int
    public var tieWordEmbeddings: Bool
    public var maxPositionEmbeddings: Int
    public var attentionQKVBias: Bool?

    // Mixture of experts (nil for dense models).
    public var numExperts: Int?
    public var expertsPerToken: Int?
    public var moeIntermediateSize: Int?
    public var numSharedExperts: Int?
    /// Leading dense layers before the MoE layers (DeepSeek's `first_k_dense_replace`).
    public var firstKDenseLayers: Int?

    // Multi-head latent attention (DeepSeek-V2/V3).
    public var kvLoraRank: Int?
    public var qLoraRank: Int?
    public var qkRopeHeadDim: Int?
    public var qkNopeHeadDim: Int?
    public var vHeadDim: Int?

    // Gemma 3 style interleaved sliding-window attention.
    public var slidingWindow: Int?
    public var numSlidingAttentionLayers: Int?

    public var totalParams: PublishedCount?
    public var activeParams: PublishedCount?
    public var computedParams: ComputedCount?
    public var source: SourceList
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case id, name, architecture, source, note
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numLayers = "num_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKVHeads = "num_kv_heads"
        case headDim = "head_dim"
        case vocabSize = "vocab_size"
        case tieWordEmbeddings = "tie_word_embeddings"
        case maxPositionEmbeddings = "max_position_embeddings"
        case attentionQKVBias = "attention_qkv_bias"
        case numExperts = "num_experts"
        case expertsPerToken = "experts_per_token"
        case moeIntermediateSize = "moe_intermediate_size"
        case numSharedExperts = "num_shared_experts"
        case firstKDenseLayers = "first_k_dense_layers"
        case kvLoraRank = "kv_lora_rank"
        case qLoraRank = "q_lora_rank"
        case qkRopeHeadDim = "qk_rope_head_dim"
        case qkNopeHeadDim = "qk_nope_head_dim"
        case vHeadDim = "v_head_dim"
        case slidingWindow = "sliding_window"
        case numSlidingAttentionLayers = "num_sliding_attention_layers"
        case totalParams = "total_params"
        case activeParams = "active_params"
        case computedParams = "computed_params"
    }

    public var isMoE: Bool { (numExperts ?? 0) > 1 }
    public var usesMLA: Bool { kvLoraRank != nil }

    /// Width of one attention head as the Q·K product sees it.
    public var queryHeadDim: Int {
        if usesMLA { return (qkNopeHeadDim ?? 0) + (qkRopeHeadDim ?? 0) }
        return headDim ?? hiddenSize / numAttentionHeads
    }

    /// Width of one value head (the attention output per head).
    public var valueHeadDim: Int { usesMLA ? (vHeadDim ?? queryHeadDim) : queryHeadDim }

    /// Layer `index` runs routed experts (DeepSeek keeps its first k layers dense).
    public func isMoELayer(_ index: Int) -> Bool { isMoE && index >= (firstKDenseLayers ?? 0) }

    /// KV elements one token adds to one layer's cache on one GPU under tensor parallel `tp`.
    /// GQA: K and V of the rank's KV heads; vLLM replicates a KV head when TP exceeds the KV
    /// head count, so a rank never holds less than one. MLA: the compressed latent plus the
    /// shared RoPE key, which every TP rank holds whole.
    public func kvElementsPerTokenPerLayer(tp: Int = 1) -> Int {
        if usesMLA { return (kvLoraRank ?? 0) + (qkRopeHeadDim ?? 0) }
        let headsPerRank = numKVHeads >= tp ? numKVHeads / tp : 1
        return 2 * headsPerRank * queryHeadDim
    }

    /// KV bytes one token adds across the whole model, unsplit (the figure model cards quote).
    /// Every layer is counted: the engine's block pool is uniform across layers, so a
    /// sliding-window layer still gets a slot per token (see `kvBytesPerSequence` for the
    /// window-aware figure).
    public func kvBytesPerToken(bytesPerElement: Int = 2) -> Int {
        numLayers * kvElementsPerTokenPerLayer() * bytesPerElement
    }

    /// KV bytes of one sequence of `length` tokens if sliding-window layers kept only their window.
    public func kvBytesPerSequence(length: Int, bytesPerElement: Int = 2) -> Int {
        let perLayer = kvElementsPerTokenPerLayer() * bytesPerElement
        guard let window = slidingWindow, let sliding = numSlidingAttentionLayers else { return numLayers * perLayer * length }
        return perLayer * ((numLayers - sliding) * length + sliding * min(length, window))
    }
}
