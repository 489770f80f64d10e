import Foundation

extension ModelSpec {
    /// Reads a Hugging Face `config.json` (Llama, Mistral, Mixtral, Qwen2/3, Qwen3-MoE,
    /// DeepSeek-V3, Gemma 3) into a spec. Only the shape fields the planner needs are read, under
    /// their HF names; the ModelFormats module is not used, so the planner stays free of it.
    public init(huggingFaceConfigAt path: String, id: String? = nil) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try self.init(huggingFaceConfig: data, id: id ?? URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent,
                      source: path)
    }

    public init(huggingFaceConfig data: Data, id: String, source: String) throws {
        guard var root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw PlannerError.invalidModelConfig("\(source): not a JSON object")
        }
        // Multimodal Gemma 3 nests the language model's shape under text_config.
        if let text = root["text_config"] as? [String: Any] {
            root = text.merging(root) { inner, _ in inner }
        }
        func int(_ keys: String...) -> Int? {
            for key in keys { if let n = root[key] as? NSNumber { return n.intValue } }
            return nil
        }
        func required(_ keys: String...) throws -> Int {
            for key in keys { if let n = root[key] as? NSNumber { return n.intValue } }
            throw PlannerError.invalidModelConfig("\(source): missing \(keys.joined(separator: " or "))")
        }
        let modelType = root["model_type"] as? String ?? "unknown"
        let hidden = try required("hidden_size")
        let heads = try required("num_attention_heads")
        let layers = try required("num_hidden_layers")

        self.id = id
        name = id
        architecture = modelType
        hiddenSize = hidden
        intermediateSize = try required("intermediate_size")
        numLayers = layers
        numAttentionHeads = heads
        numKVHeads = int("num_key_value_heads") ?? heads
        vocabSize = try required("vocab_size")
        tieWordEmbeddings = (root["tie_word_embeddings"] as? Bool) ?? false
        maxPositionEmbeddings = int("max_position_embeddings") ?? 4096
        // Qwen2 always has a QKV bias; others say so with attention_bias.
        attentionQKVBias = modelType == "qwen2" ? true : (root["attention_bias"] as? Bool)

        numExperts = int("num_local_experts", "n_routed_experts", "num_experts")
        expertsPerToken = int("num_experts_per_tok")
        moeIntermediateSize = numExperts == nil ? nil : (int("moe_intermediate_size") ?? intermediateSize)
        numSharedExperts = int("n_shared_experts", "num_shared_experts") ?? (numExperts == nil ? nil : 0)
        firstKDenseLayers = int("first_k_dense_replace")

        kvLoraRank = int("kv_lora_rank")
        qLoraRank = int("q_lora_rank")
        qkRopeHeadDim = int("qk_rope_head_dim")
        qkNopeHeadDim = int("qk_nope_head_dim")
        vHeadDim = int("v_head_dim")
        headDim = kvLoraRank != nil ? nil : (int("head_dim") ?? hidden / heads)

        // Gemma 3: every sixth layer is global, the rest slide. Mistral's sliding_window applies
        // to all layers but is usually null in current configs; only the Gemma pattern is modelled.
        if modelType.hasPrefix("gemma3"), let window = int("sliding_window") {
            let pattern = int("sliding_window_pattern") ?? 6
            slidingWindow = window
            numSlidingAttentionLayers = layers - layers / pattern
        } else {
            slidingWindow = nil
            numSlidingAttentionLayers = nil
        }
        totalParams = nil
        activeParams = nil
        computedParams = nil
        self.source = SourceList([source])
        note = "read from a Hugging Face config.json"
    }
}

public enum PlannerError: Error, Equatable, CustomStringConvertible {
    case invalidModelConfig(String)
    case unknown(kind: String, id: String, known: [String])
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .invalidModelConfig(let m), .invalidRequest(let m): return m
        case .unknown(let kind, let id, let known): return "unknown \(kind) '\(id)'; known: \(known.joined(separator: ", "))"
        }
    }
}
