import Foundation

extension ModelConfig {
    /// `general.architecture` values `ModelConfig(gguf:)` maps.
    public static let ggufArchitectures = ["llama", "mistral", "mixtral", "qwen2", "gemma3"]

    /// Reads the model shape from GGUF metadata (llama.cpp's `{arch}.*` keys) plus the tensor list.
    ///
    /// Rules, where the GGUF does not say:
    /// - `llama` with `llama.expert_count` > 0 is `.mixtral` (llama.cpp stores Mixtral as llama);
    ///   plain `llama` is `.llama` (Mistral 7B GGUFs are also "llama" and load as such).
    /// - Vocabulary size: rows of `token_embd.weight` (`ne[1]`), else `{arch}.vocab_size`, else the
    ///   length of `tokenizer.ggml.tokens`.
    /// - Tied embeddings when there is no `output.weight` tensor; attention bias when
    ///   `blk.0.attn_q.bias` exists (always for qwen2); MLP bias when `blk.0.ffn_up.bias` exists.
    /// - Defaults: rms eps 1e-6, context 2048, rope base 10,000 (1,000,000 for gemma3).
    /// - RoPE scaling: `{arch}.rope.scaling.type` none/linear (or the old `rope.scale_linear`).
    ///   Llama 3.x files carry no scaling keys but a `rope_freqs.weight` tensor of per-frequency
    ///   divisors; it is matched against the Llama 3 formula (low 1, high 4, original context
    ///   `rope.scaling.original_context_length` or 8192, factor = largest divisor) and becomes
    ///   `.llama3`, or is refused when it does not match. yarn/longrope are refused.
    /// - Gemma 3 (llama.cpp hard-codes these, the GGUF does not store them): hidden act
    ///   `gelu_pytorch_tanh`; window `gemma3.attention.sliding_window` or 512; layers alternate
    ///   5 sliding : 1 full, full where `(i + 1) % 6 == 0` (5, 11, 17, …) unless
    ///   `gemma3.attention.sliding_window_pattern` says otherwise (an int period, or a per-layer bool
    ///   array, true = sliding); global RoPE base `gemma3.rope.freq_base` (1e6), local base
    ///   `gemma3.rope.freq_base_swa` or 10,000; `queryPreAttnScalar` = 1/scale² when
    ///   `gemma3.attention.scale` is stored, else hidden/heads for the 62-layer 27B (as llama.cpp),
    ///   else head_dim (256 for 270M, 1B, 4B and 12B, matching their HF configs).
    /// - Sliding window is honoured for gemma3 and for mistral/mixtral-named architectures
    ///   (all layers sliding); llama and qwen2 ignore it, as llama.cpp does.
    /// - EOS ids: `tokenizer.ggml.eos_token_id`, then `eot_token_id` and `eom_token_id` if present.
    public init(gguf: GGUFFile) throws {
        let m = gguf.metadata
        let path = gguf.path
        func bad(_ reason: String) -> ModelFormatError { .badConfig(path: path, reason: reason) }
        let supported = Self.ggufArchitectures

        guard let archName = try m.string("general.architecture") else {
            throw bad("missing 'general.architecture'; supported: \(supported.joined(separator: ", "))")
        }
        func key(_ suffix: String) -> String { "\(archName).\(suffix)" }
        /// An integer, or a per-layer integer array whose entries are all equal.
        func int(_ suffix: String) throws -> Int? {
            let k = key(suffix)
            guard let value = m[k] else { return nil }
            if let a = value.arrayValue {
                guard let ints = a.ints, let first = ints.first, ints.allSatisfy({ $0 == first }) else {
                    throw bad("'\(k)' varies per layer (\(value.typeName)); per-layer values are not supported")
                }
                return first
            }
            return try m.int(k)
        }
        func required(_ suffix: String) throws -> Int {
            guard let v = try int(suffix) else { throw bad("missing '\(key(suffix))'") }
            return v
        }
        func float(_ suffix: String) throws -> Double? { try m.float(key(suffix)) }

        let expertCount = try int("expert_count") ?? 0
        let arch: ModelArchitecture
        switch archName {
        case "llama": arch = expertCount > 0 ? .mixtral : .llama
        case "mistral": arch = expertCount > 0 ? .mixtral : .mistral
        case "mixtral": arch = .mixtral
        case "qwen2": arch = .qwen2
        case "gemma3": arch = .gemma3
        default:
            throw ModelFormatError.unsupportedArchitecture(path: path, found: archName, supported: supported)
        }

        let hidden = try required("embedding_length")
        let layers = try required("block_count")
        let heads = try required("attention.head_count")
        guard hidden > 0, heads > 0, layers > 0 else {
            throw bad("\(key("embedding_length")), \(key("block_count")) and \(key("attention.head_count")) must be positive")
        }
        let kvHeads = try int("attention.head_count_kv") ?? heads
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw bad("head_count \(heads) is not a multiple of head_count_kv \(kvHeads)")
        }
        let headDim = try int("attention.key_length") ?? hidden / heads
        guard headDim > 0 else { throw bad("head dimension \(headDim) must be positive") }
        if let valueLength = try int("attention.value_length"), valueLength != headDim {
            throw bad("attention.value_length \(valueLength) differs from key_length \(headDim); not supported")
        }
        var ffn = try int("feed_forward_length")
        if expertCount > 0, let expertFFN = try int("expert_feed_forward_length") { ffn = expertFFN }
        guard let intermediate = ffn, intermediate > 0 else { throw bad("missing '\(key("feed_forward_length"))'") }

        let vocab: Int
        if let embd = gguf.tensor(named: "token_embd.weight"), embd.ne.count >= 2 {
            vocab = embd.ne[1]
        } else if let v = try int("vocab_size") {
            vocab = v
        } else if let tokens = try m.array("tokenizer.ggml.tokens") {
            vocab = tokens.count
        } else {
            throw bad("cannot tell the vocabulary size: no token_embd.weight tensor, '\(key("vocab_size"))' or tokenizer.ggml.tokens")
        }
        guard vocab > 0 else { throw bad("vocabulary size \(vocab) must be positive") }

        let ropeTheta = try float("rope.freq_base") ?? (arch == .gemma3 ? 1_000_000 : 10_000)
        try ConfigNumberCheck.positive(ropeTheta, key: key("rope.freq_base"), path: path)
        let ropeScaling = try Self.ggufRopeScaling(gguf, archName: archName, theta: ropeTheta, headDim: headDim)

        var window = try int("attention.sliding_window")
        if let w = window, w <= 0 { window = nil }
        var layerTypes = [AttentionKind](repeating: .full, count: layers)
        switch arch {
        case .gemma3:
            window = window ?? 512
            if let pattern = m[key("attention.sliding_window_pattern")] {
                if let bools = pattern.arrayValue?.bools {
                    guard bools.count == layers else {
                        throw bad("'\(key("attention.sliding_window_pattern"))' has \(bools.count) entries for \(layers) layers")
                    }
                    layerTypes = bools.map { $0 ? .sliding : .full }
                } else if let period = pattern.intValue, period > 0 {
                    layerTypes = (0..<layers).map { ($0 + 1) % period == 0 ? .full : .sliding }
                } else {
                    throw bad("'\(key("attention.sliding_window_pattern"))' must be a positive integer or a BOOL array, found \(pattern.typeName)")
                }
            } else {
                layerTypes = (0..<layers).map { ($0 + 1) % 6 == 0 ? .full : .sliding }
            }
        case .mistral, .mixtral:
            if window != nil { layerTypes = layerTypes.map { _ in .sliding } }
        case .llama, .qwen2:
            window = nil
        }
        if window == nil { layerTypes = layerTypes.map { _ in .full } }

        var queryPreAttnScalar: Double?
        if let scale = try float("attention.scale"), scale > 0 {
            queryPreAttnScalar = 1 / (scale * scale)
        } else if arch == .gemma3 {
            queryPreAttnScalar = layers == 62 ? Double(hidden / heads) : Double(headDim)
        }

        let expertsUsed = try int("expert_used_count") ?? 0
        if expertCount > 0, !(1...expertCount).contains(expertsUsed) {
            throw bad("expert_used_count \(expertsUsed) must be between 1 and expert_count \(expertCount)")
        }

        let eps = try float("attention.layer_norm_rms_epsilon") ?? 1e-6
        let contextLength = try int("context_length") ?? 2048
        let localTheta = try float("rope.freq_base_swa") ?? (arch == .gemma3 ? 10_000 : nil)
        let softcap = try float("final_logit_softcapping")
        try ConfigNumberCheck.nonNegative(eps, key: key("attention.layer_norm_rms_epsilon"), path: path)
        try ConfigNumberCheck.positive(contextLength, key: key("context_length"), path: path)
        try ConfigNumberCheck.positive(localTheta, key: key("rope.freq_base_swa"), path: path)
        try ConfigNumberCheck.positive(softcap, key: key("final_logit_softcapping"), path: path)

        var eos: [Int] = []
        for k in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = try m.int(k), !eos.contains(id) { eos.append(id) }
        }

        self.init(
            architecture: arch,
            hiddenSize: hidden,
            numLayers: layers,
            numHeads: heads,
            numKVHeads: kvHeads,
            headDim: headDim,
            intermediateSize: intermediate,
            vocabSize: vocab,
            rmsNormEps: Float(eps),
            ropeTheta: ropeTheta,
            ropeScaling: ropeScaling,
            maxPositionEmbeddings: contextLength,
            tieWordEmbeddings: gguf.tensor(named: "output.weight") == nil,
            attentionBias: arch == .qwen2 || gguf.tensor(named: "blk.0.attn_q.bias") != nil,
            mlpBias: gguf.tensor(named: "blk.0.ffn_up.bias") != nil || gguf.tensor(named: "blk.0.ffn_down.bias") != nil,
            hiddenAct: arch == .gemma3 ? "gelu_pytorch_tanh" : "silu",
            slidingWindow: window,
            layerTypes: layerTypes,
            ropeLocalTheta: localTheta,
            numExperts: expertCount,
            numExpertsPerToken: expertCount > 0 ? expertsUsed : 0,
            queryPreAttnScalar: queryPreAttnScalar,
            finalLogitSoftcapping: softcap,
            bosTokenId: try m.int("tokenizer.ggml.bos_token_id"),
            eosTokenIds: eos)
    }

    private static func ggufRopeScaling(_ gguf: GGUFFile, archName: String, theta: Double, headDim: Int) throws -> RopeScaling {
        let m = gguf.metadata
        let path = gguf.path
        func bad(_ reason: String) -> ModelFormatError { .badConfig(path: path, reason: reason) }
        let typeKey = "\(archName).rope.scaling.type"
        let factorKey = "\(archName).rope.scaling.factor"
        let originalKey = "\(archName).rope.scaling.original_context_length"

        var type = try m.string(typeKey)
        var factor = try m.float(factorKey)
        if type == nil, let old = try m.float("\(archName).rope.scale_linear"), old != 1 {
            type = "linear"
            factor = old
        }
        switch type ?? "none" {
        case "none":
            break
        case "linear":
            guard let factor, factor > 0 else { throw bad("rope scaling 'linear' needs a positive '\(factorKey)'") }
            return .linear(factor: factor)
        case let other:
            throw bad("unsupported rope scaling type '\(other)' in '\(typeKey)'; supported: none, linear (llama3 via rope_freqs.weight)")
        }

        guard let freqs = gguf.tensor(named: "rope_freqs.weight") else { return .none }
        let divisors = try freqs.tensorData().floats()
        guard divisors.count == headDim / 2, let maxFactor = divisors.max(), maxFactor.isFinite else {
            throw bad("rope_freqs.weight has \(divisors.count) entries, expected head_dim/2 = \(headDim / 2)")
        }
        if divisors.allSatisfy({ abs($0 - 1) < 1e-6 }) { return .none }
        let original = try m.int(originalKey) ?? 8192
        let llamaFactor = Double(maxFactor)
        let low = 1.0, high = 4.0
        let expected = (0..<headDim / 2).map { i -> Double in
            let freq = 1 / pow(theta, Double(2 * i) / Double(headDim))
            let wavelen = 2 * Double.pi / freq
            if wavelen < Double(original) / high { return 1 }
            if wavelen > Double(original) / low { return llamaFactor }
            let smooth = (Double(original) / wavelen - low) / (high - low)
            return 1 / ((1 - smooth) / llamaFactor + smooth)
        }
        for (got, want) in zip(divisors, expected) where abs(Double(got) - want) > 1e-3 * max(1, want) {
            throw bad("rope_freqs.weight does not match Llama 3 scaling (factor \(llamaFactor), low 1, high 4, original context \(original)); arbitrary per-frequency factors are not supported")
        }
        return .llama3(factor: llamaFactor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: original)
    }
}
