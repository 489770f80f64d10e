import Foundation

extension ModelConfig {
    /// Reads `config.json` from a model directory.
    public static func load(directory: String) throws -> ModelConfig {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw ModelFormatError.missingFile(path: directory)
        }
        let path = (directory as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFormatError.missingFile(path: path)
        }
        return try ModelConfig(huggingFaceJSON: data, path: path)
    }

    /// Parses an HF `config.json`. Older files put `rope_theta`/`rope_scaling` at top level,
    /// transformers 5 nests them in `rope_parameters` (per layer type for Gemma 3): both work.
    public init(huggingFaceJSON data: Data, path: String = "config.json") throws {
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelFormatError.badConfig(path: path, reason: "not a JSON object")
        }
        let supported = ModelArchitecture.allCases.map(\.rawValue)
        guard let modelType = root["model_type"] as? String else {
            throw ModelFormatError.badConfig(path: path, reason: "missing 'model_type'; supported: \(supported.joined(separator: ", "))")
        }
        // Multimodal Gemma 3 checkpoints keep the language model under text_config.
        let normalizedType = modelType == "gemma3_text" ? "gemma3" : modelType
        guard let arch = ModelArchitecture(rawValue: normalizedType) else {
            throw ModelFormatError.unsupportedArchitecture(path: path, found: modelType, supported: supported)
        }
        let c = JSONFields(dict: (root["text_config"] as? [String: Any]) ?? root, path: path)

        let hidden = try c.int("hidden_size")
        let heads = try c.int("num_attention_heads")
        let layers = try c.int("num_hidden_layers")
        guard hidden > 0, heads > 0, layers > 0 else {
            throw ModelFormatError.badConfig(path: path, reason: "hidden_size, num_attention_heads and num_hidden_layers must be positive")
        }
        let kvHeads = try c.optionalInt("num_key_value_heads") ?? heads
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw ModelFormatError.badConfig(path: path, reason: "num_attention_heads \(heads) is not a multiple of num_key_value_heads \(kvHeads)")
        }
        let headDim = try c.optionalInt("head_dim") ?? hidden / heads
        let rope = try Self.parseRope(c)

        var layerTypes = [AttentionKind](repeating: .full, count: layers)
        if let names = c.dict["layer_types"] as? [String] {
            guard names.count == layers else {
                throw ModelFormatError.badConfig(path: path, reason: "layer_types has \(names.count) entries for \(layers) layers")
            }
            layerTypes = try names.map {
                guard let kind = AttentionKind(rawValue: $0) else {
                    throw ModelFormatError.badConfig(path: path, reason: "unknown layer type '\($0)'")
                }
                return kind
            }
        } else if arch == .gemma3 {
            // Gemma 3 before layer_types: every `sliding_window_pattern`-th layer is global.
            let pattern = try c.optionalInt("sliding_window_pattern") ?? 6
            layerTypes = (0..<layers).map { ($0 + 1) % pattern == 0 ? .full : .sliding }
        }
        var window = try c.optionalInt("sliding_window")
        if (c.dict["use_sliding_window"] as? Bool) == false { window = nil }
        if window == nil { layerTypes = layerTypes.map { _ in .full } }
        if window != nil, arch == .mistral || arch == .mixtral, c.dict["layer_types"] == nil {
            layerTypes = layerTypes.map { _ in .sliding }
        }

        let eps = try c.optionalDouble("rms_norm_eps") ?? 1e-6
        let maxPositions = try c.optionalInt("max_position_embeddings") ?? 2048
        let softcap = try c.optionalDouble("final_logit_softcapping")
        let queryScalar = try c.optionalDouble("query_pre_attn_scalar")
        try ConfigNumberCheck.nonNegative(eps, key: "rms_norm_eps", path: path)
        try ConfigNumberCheck.positive(maxPositions, key: "max_position_embeddings", path: path)
        try ConfigNumberCheck.positive(rope.theta, key: "rope_theta", path: path)
        try ConfigNumberCheck.positive(rope.localTheta, key: "rope_local_base_freq", path: path)
        try ConfigNumberCheck.positive(softcap, key: "final_logit_softcapping", path: path)
        try ConfigNumberCheck.positive(queryScalar, key: "query_pre_attn_scalar", path: path)

        let eos: [Int]
        if let list = c.dict["eos_token_id"] as? [Any] { eos = list.compactMap(exactInt) } else { eos = try c.optionalInt("eos_token_id").map { [$0] } ?? [] }

        self.init(
            architecture: arch,
            hiddenSize: hidden,
            numLayers: layers,
            numHeads: heads,
            numKVHeads: kvHeads,
            headDim: headDim,
            intermediateSize: try c.int("intermediate_size"),
            vocabSize: try c.int("vocab_size"),
            rmsNormEps: Float(eps),
            ropeTheta: rope.theta,
            ropeScaling: rope.scaling,
            maxPositionEmbeddings: maxPositions,
            tieWordEmbeddings: (c.dict["tie_word_embeddings"] as? Bool) ?? (arch == .gemma3),
            attentionBias: arch == .qwen2 ? true : ((c.dict["attention_bias"] as? Bool) ?? false),
            mlpBias: (c.dict["mlp_bias"] as? Bool) ?? false,
            hiddenAct: (c.dict["hidden_act"] as? String) ?? (c.dict["hidden_activation"] as? String) ?? "silu",
            slidingWindow: window,
            layerTypes: layerTypes,
            ropeLocalTheta: rope.localTheta,
            numExperts: try c.optionalInt("num_local_experts") ?? 0,
            numExpertsPerToken: try c.optionalInt("num_experts_per_tok") ?? 0,
            queryPreAttnScalar: queryScalar,
            finalLogitSoftcapping: softcap,
            bosTokenId: try c.optionalInt("bos_token_id"),
            eosTokenIds: eos)
    }

    private static func parseRope(_ c: JSONFields) throws
        -> (theta: Double, scaling: RopeScaling, localTheta: Double?)
    {
        var params = (c.dict["rope_parameters"] as? [String: Any]) ?? [:]
        var localTheta = try c.optionalDouble("rope_local_base_freq")
        // Per-layer-type parameters (transformers 5 Gemma 3): global layers drive the main theta.
        if let full = params["full_attention"] as? [String: Any] {
            if let sliding = params["sliding_attention"] as? [String: Any] {
                localTheta = try JSONFields(dict: sliding, path: c.path).optionalDouble("rope_theta") ?? localTheta
            }
            params = full
        }
        let p = JSONFields(dict: params, path: c.path)
        let theta = try p.optionalDouble("rope_theta") ?? c.optionalDouble("rope_theta") ?? 10_000
        let scalingDict = (c.dict["rope_scaling"] as? [String: Any]) ?? params
        let s = JSONFields(dict: scalingDict, path: c.path)
        let type = (scalingDict["rope_type"] as? String) ?? (scalingDict["type"] as? String) ?? "default"
        let scaling: RopeScaling
        switch type {
        case "default":
            scaling = .none
        case "linear":
            scaling = .linear(factor: try s.double("factor"))
        case "llama3":
            scaling = .llama3(
                factor: try s.double("factor"),
                lowFreqFactor: try s.optionalDouble("low_freq_factor") ?? 1,
                highFreqFactor: try s.optionalDouble("high_freq_factor") ?? 4,
                originalMaxPositions: try s.optionalInt("original_max_position_embeddings") ?? 8192)
        default:
            throw ModelFormatError.badConfig(path: c.path, reason: "unsupported rope type '\(type)'; supported: default, linear, llama3")
        }
        return (theta, scaling, localTheta)
    }
}

/// Typed reads from a JSON object with errors that name the key and the file.
struct JSONFields {
    let dict: [String: Any]
    let path: String

    func int(_ key: String) throws -> Int {
        guard let v = try optionalInt(key) else { throw ModelFormatError.badConfig(path: path, reason: "missing '\(key)'") }
        return v
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let raw = dict[key], !(raw is NSNull) else { return nil }
        guard let v = exactInt(raw) else { throw ModelFormatError.badConfig(path: path, reason: "'\(key)' must be an integer") }
        return v
    }

    func double(_ key: String) throws -> Double {
        guard let v = try optionalDouble(key) else { throw ModelFormatError.badConfig(path: path, reason: "missing '\(key)'") }
        return v
    }

    func optionalDouble(_ key: String) throws -> Double? {
        guard let raw = dict[key], !(raw is NSNull) else { return nil }
        guard let n = raw as? NSNumber else { throw ModelFormatError.badConfig(path: path, reason: "'\(key)' must be a number") }
        return n.doubleValue
    }
}
