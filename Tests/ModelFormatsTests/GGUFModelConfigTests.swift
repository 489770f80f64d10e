import Foundation
import ModelFormats
import Testing

@Suite struct GGUFModelConfigTests {
    /// Gemma 3 metadata as llama.cpp writes it (no layer pattern, no local RoPE base), small shapes.
    static func gemma3Writer() -> GGUFTestWriter {
        var w = GGUFTestWriter()
        w.add("general.architecture", .string("gemma3"))
        w.add("gemma3.context_length", .uint32(32768))
        w.add("gemma3.embedding_length", .uint32(64))
        w.add("gemma3.block_count", .uint32(12))
        w.add("gemma3.feed_forward_length", .uint32(128))
        w.add("gemma3.attention.head_count", .uint32(4))
        w.add("gemma3.attention.layer_norm_rms_epsilon", .float32(1e-6))
        w.add("gemma3.attention.key_length", .uint32(32))
        w.add("gemma3.attention.value_length", .uint32(32))
        w.add("gemma3.rope.freq_base", .float32(1_000_000))
        w.add("gemma3.attention.sliding_window", .uint32(256))
        w.add("gemma3.attention.head_count_kv", .uint32(1))
        w.add("tokenizer.ggml.model", .string("llama"))
        w.add("tokenizer.ggml.tokens", .array(.string(["<pad>", "<eos>", "<bos>", "<unk>", "a", "b", "▁c"])))
        w.add("tokenizer.ggml.scores", .array(.float32([-1000, -1000, -1000, -1000, -1, -2, -3])))
        w.add("tokenizer.ggml.token_type", .array(.int32([3, 3, 3, 2, 1, 1, 1])))
        w.add("tokenizer.ggml.bos_token_id", .uint32(2))
        w.add("tokenizer.ggml.eos_token_id", .uint32(1))
        w.add("tokenizer.ggml.unknown_token_id", .uint32(3))
        w.add("tokenizer.ggml.padding_token_id", .uint32(0))
        w.add("tokenizer.ggml.add_bos_token", .bool(true))
        w.add("tokenizer.ggml.add_eos_token", .bool(false))
        return w
    }

    static func llamaWriter() -> GGUFTestWriter {
        var w = GGUFTestWriter()
        w.add("general.architecture", .string("llama"))
        w.add("llama.context_length", .uint32(131072))
        w.add("llama.embedding_length", .uint32(64))
        w.add("llama.block_count", .uint32(2))
        w.add("llama.feed_forward_length", .uint32(256))
        w.add("llama.attention.head_count", .uint32(8))
        w.add("llama.attention.head_count_kv", .uint32(2))
        w.add("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.add("llama.rope.freq_base", .float32(500_000))
        w.add("tokenizer.ggml.model", .string("gpt2"))
        w.add("tokenizer.ggml.tokens", .array(.string((0..<20).map { "t\($0)" })))
        w.add("tokenizer.ggml.bos_token_id", .uint32(17))
        w.add("tokenizer.ggml.eos_token_id", .uint32(18))
        w.add("tokenizer.ggml.eot_token_id", .uint32(19))
        // The embedding has 16 rows: it, not the 20-entry token list, sets the vocabulary.
        w.addTensor("token_embd.weight", type: .f32, ne: [64, 16])
        w.addTensor("output.weight", type: .q8_0, ne: [64, 16])
        return w
    }

    @Test func gemma3FillsInWhatTheFileDoesNotStore() throws {
        let c = try ModelConfig(gguf: openGGUF(Self.gemma3Writer().bytes))
        #expect(c.architecture == .gemma3)
        #expect(c.hiddenSize == 64 && c.numLayers == 12 && c.numHeads == 4 && c.numKVHeads == 1 && c.headDim == 32)
        #expect(c.intermediateSize == 128 && c.vocabSize == 7 && c.maxPositionEmbeddings == 32768)
        #expect(c.rmsNormEps == 1e-6 && c.ropeTheta == 1_000_000 && c.ropeLocalTheta == 10_000 && c.ropeScaling == .none)
        #expect(c.slidingWindow == 256)
        #expect(c.layerTypes.indices.filter { c.layerTypes[$0] == .full } == [5, 11])
        #expect(c.queryPreAttnScalar == 32 && c.hiddenAct == "gelu_pytorch_tanh")
        #expect(c.tieWordEmbeddings && !c.attentionBias && !c.mlpBias && !c.isMoE)
        #expect(c.bosTokenId == 2 && c.eosTokenIds == [1] && c.finalLogitSoftcapping == nil)
    }

    @Test func gemma3DefaultsAndOverrides() throws {
        var w = Self.gemma3Writer()
        w.kvs.removeAll { $0.0 == "gemma3.attention.sliding_window" || $0.0 == "gemma3.rope.freq_base" }
        var c = try ModelConfig(gguf: openGGUF(w.bytes))
        #expect(c.slidingWindow == 512 && c.ropeTheta == 1_000_000)

        w.add("gemma3.attention.sliding_window_pattern", .uint32(4))
        w.add("gemma3.rope.freq_base_swa", .float32(20_000))
        w.add("gemma3.attention.scale", .float32(0.125))
        c = try ModelConfig(gguf: openGGUF(w.bytes))
        #expect(c.layerTypes.indices.filter { c.layerTypes[$0] == .full } == [3, 7, 11])
        #expect(c.ropeLocalTheta == 20_000 && c.queryPreAttnScalar == 64)

        w.kvs.removeAll { $0.0 == "gemma3.attention.sliding_window_pattern" }
        let pattern = (0..<12).map { $0 % 2 == 0 }
        w.add("gemma3.attention.sliding_window_pattern", .array(.bool(pattern)))
        c = try ModelConfig(gguf: openGGUF(w.bytes))
        #expect(c.layerTypes == pattern.map { $0 ? .sliding : .full })
    }

    @Test func llamaMapping() throws {
        var w = Self.llamaWriter()
        w.add("llama.rope.scaling.type", .string("linear"))
        w.add("llama.rope.scaling.factor", .float32(2))
        w.add("llama.attention.sliding_window", .uint32(4096))   // llama ignores it, as llama.cpp does
        let c = try ModelConfig(gguf: openGGUF(w.bytes))
        #expect(c.architecture == .llama)
        #expect(c.hiddenSize == 64 && c.numLayers == 2 && c.numHeads == 8 && c.numKVHeads == 2 && c.headDim == 8)
        #expect(c.intermediateSize == 256 && c.vocabSize == 16 && c.maxPositionEmbeddings == 131072)
        #expect(c.rmsNormEps == 1e-5 && c.ropeTheta == 500_000 && c.ropeScaling == .linear(factor: 2))
        #expect(!c.tieWordEmbeddings && !c.attentionBias && c.hiddenAct == "silu")
        #expect(c.slidingWindow == nil && c.layerTypes == [.full, .full] && c.ropeLocalTheta == nil)
        #expect(c.queryPreAttnScalar == nil && c.attentionScale == 1 / Float(8).squareRoot())
        #expect(c.bosTokenId == 17 && c.eosTokenIds == [18, 19])
    }

    @Test func llamaWithExpertsIsMixtral() throws {
        var w = Self.llamaWriter()
        w.add("llama.expert_count", .uint32(8))
        w.add("llama.expert_used_count", .uint32(2))
        let c = try ModelConfig(gguf: openGGUF(w.bytes))
        #expect(c.architecture == .mixtral && c.numExperts == 8 && c.numExpertsPerToken == 2 && c.isMoE)

        w.kvs.removeAll { $0.0 == "llama.expert_used_count" }
        #expect(throws: ModelFormatError.self) { try ModelConfig(gguf: openGGUF(w.bytes)) }
    }

    @Test func qwen2HasBiasAndTiedEmbeddingsWithoutOutputTensor() throws {
        var w = GGUFTestWriter()
        w.add("general.architecture", .string("qwen2"))
        w.add("qwen2.embedding_length", .uint32(32))
        w.add("qwen2.block_count", .uint32(1))
        w.add("qwen2.feed_forward_length", .uint32(64))
        w.add("qwen2.attention.head_count", .uint32(4))
        w.add("qwen2.attention.head_count_kv", .uint32(2))
        w.add("qwen2.vocab_size", .uint32(99))
        let c = try ModelConfig(gguf: openGGUF(w.bytes))
        #expect(c.architecture == .qwen2 && c.attentionBias && c.tieWordEmbeddings && c.vocabSize == 99)
        #expect(c.ropeTheta == 10_000 && c.maxPositionEmbeddings == 2048 && c.eosTokenIds.isEmpty)
    }

    /// Llama 3.x GGUFs carry the RoPE scaling as a `rope_freqs.weight` tensor of divisors.
    @Test func llama3RopeFreqsTensorBecomesLlama3Scaling() throws {
        func divisors(factor: Double, theta: Double, headDim: Int) -> [Float] {
            (0..<headDim / 2).map { i in
                let freq = 1 / pow(theta, Double(2 * i) / Double(headDim))
                let wavelen = 2 * Double.pi / freq
                if wavelen < 8192 / 4 { return 1 }
                if wavelen > 8192 { return Float(factor) }
                let smooth = (8192 / wavelen - 1) / 3
                return Float(1 / ((1 - smooth) / factor + smooth))
            }
        }
        var w = Self.llamaWriter()
        let good = divisors(factor: 32, theta: 500_000, headDim: 8)
        w.addTensor("rope_freqs.weight", type: .f32, ne: [4], data: good.flatMap { ggufLE($0.bitPattern) })
        let c = try ModelConfig(gguf: openGGUF(w.bytes))
        #expect(c.ropeScaling == .llama3(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192))

        var bad = good
        bad[1] = 7
        w.tensors[w.tensors.count - 1].data = bad.flatMap { ggufLE($0.bitPattern) }
        #expect(throws: ModelFormatError.self) { try ModelConfig(gguf: openGGUF(w.bytes)) }
    }

    @Test func configErrors() throws {
        var w = Self.llamaWriter()
        w.kvs[0] = ("general.architecture", .string("mamba"))
        let e = #expect(throws: ModelFormatError.self) { try ModelConfig(gguf: openGGUF(w.bytes)) }
        if case .unsupportedArchitecture(_, let found, let supported) = e {
            #expect(found == "mamba" && supported == ["llama", "mistral", "mixtral", "qwen2", "gemma3"])
        } else {
            Issue.record("got \(String(describing: e))")
        }

        w = Self.llamaWriter()
        w.kvs.removeAll { $0.0 == "llama.embedding_length" }
        let missing = #expect(throws: ModelFormatError.self) { try ModelConfig(gguf: openGGUF(w.bytes)) }
        #expect(missing?.description.contains("missing 'llama.embedding_length'") == true)

        w = Self.llamaWriter()
        w.add("llama.rope.scaling.type", .string("yarn"))
        let yarn = #expect(throws: ModelFormatError.self) { try ModelConfig(gguf: openGGUF(w.bytes)) }
        #expect(yarn?.description.contains("yarn") == true)

        w = Self.llamaWriter()
        w.kvs[5] = ("llama.attention.head_count", .array(.uint32([8, 4])))
        #expect(throws: ModelFormatError.self) { try ModelConfig(gguf: openGGUF(w.bytes)) }
        w.kvs[5] = ("llama.attention.head_count", .array(.uint32([8, 8])))   // per-layer but uniform
        #expect(try ModelConfig(gguf: openGGUF(w.bytes)).numHeads == 8)

        w = Self.llamaWriter()
        w.kvs[6] = ("llama.attention.head_count_kv", .uint32(3))
        #expect(throws: ModelFormatError.self) { try ModelConfig(gguf: openGGUF(w.bytes)) }

        w = Self.llamaWriter()
        w.kvs[1] = ("llama.context_length", .string("long"))
        #expect(throws: GGUFError.self) { try ModelConfig(gguf: openGGUF(w.bytes)) }
    }

    /// Values that would load and then give NaN logits (or blame an engine flag) are errors
    /// naming the key; in-range values of the same keys load.
    @Test(arguments: [
        ("gemma3.attention.layer_norm_rms_epsilon", GGUFValue.float32(-1), "must be a finite number >= 0, found -1.0"),
        ("gemma3.rope.freq_base", .float32(.nan), "must be a finite number > 0, found nan"),
        ("gemma3.rope.freq_base", .float32(0), "must be a finite number > 0, found 0.0"),
        ("gemma3.rope.freq_base_swa", .float32(-10_000), "must be a finite number > 0"),
        ("gemma3.final_logit_softcapping", .float32(0), "must be a finite number > 0"),
        ("gemma3.context_length", .uint32(0), "must be > 0, found 0"),
    ])
    func numbersAForwardPassCannotUse(key: String, value: GGUFValue, expected: String) throws {
        var w = Self.gemma3Writer()
        w.kvs.removeAll { $0.0 == key }
        w.add(key, value)
        let e = #expect(throws: ModelFormatError.self) { try ModelConfig(gguf: openGGUF(w.bytes)) }
        #expect(e?.description.contains("'\(key)' \(expected)") == true, "\(e?.description ?? "no error")")

        w = Self.gemma3Writer()
        w.add("gemma3.rope.freq_base_swa", .float32(10_000))
        w.add("gemma3.final_logit_softcapping", .float32(30))
        w.kvs.removeAll { $0.0 == "gemma3.attention.layer_norm_rms_epsilon" }
        w.add("gemma3.attention.layer_norm_rms_epsilon", .float32(0))
        let c = try ModelConfig(gguf: openGGUF(w.bytes))
        #expect(c.rmsNormEps == 0 && c.ropeLocalTheta == 10_000 && c.finalLogitSoftcapping == 30)
    }

    @Test func bosAndEosOutsideTheVocabularyAreErrors() throws {
        for key in ["tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"] {
            var w = Self.gemma3Writer()
            w.kvs.removeAll { $0.0 == key }
            w.add(key, .uint32(7))
            let e = #expect(throws: GGUFError.self) { try openGGUF(w.bytes).tokenizerData() }
            #expect(e?.description.hasSuffix("metadata key '\(key)': 7 is outside the 7-token vocabulary") == true, "\(e?.description ?? "no error")")
        }
    }

    @Test func tokenizerData() throws {
        var w = Self.llamaWriter()
        w.add("tokenizer.ggml.pre", .string("llama-bpe"))
        w.add("tokenizer.ggml.merges", .array(.string(["t 1", "t1 0"])))
        w.add("tokenizer.ggml.token_type", .array(.int32(Array(repeating: 1, count: 17) + [3, 3, 3])))
        w.add("tokenizer.ggml.padding_token_id", .uint32(1000))   // out of range: dropped
        w.add("tokenizer.ggml.add_bos_token", .bool(true))
        w.add("tokenizer.chat_template", .string("{{ messages }}"))
        w.add("tokenizer.chat_template.tool_use", .string("{{ tools }}"))
        let t = try openGGUF(w.bytes).tokenizerData()
        #expect(t.model == "gpt2" && t.isByteLevelBPE && !t.isSentencePiece && t.pre == "llama-bpe")
        #expect(t.tokens.count == 20 && t.tokens[3] == "t3" && t.merges == ["t 1", "t1 0"] && t.scores == nil)
        #expect(t.tokenType(17) == .control && t.tokenType(0) == .normal && t.tokenType(99) == nil)
        #expect(t.bosTokenId == 17 && t.eosTokenId == 18 && t.eotTokenId == 19 && t.paddingTokenId == nil && t.unknownTokenId == nil)
        #expect(t.addBosToken == true && t.addEosToken == nil)
        #expect(t.chatTemplate == "{{ messages }}" && t.namedChatTemplates == ["tool_use": "{{ tools }}"])

        let g = try openGGUF(GGUFModelConfigTests.gemma3Writer().bytes).tokenizerData()
        #expect(g.isSentencePiece && g.scores?.count == 7 && g.unknownTokenId == 3 && g.paddingTokenId == 0 && g.chatTemplate == nil)

        var bad = GGUFModelConfigTests.gemma3Writer()
        bad.kvs.removeAll { $0.0 == "tokenizer.ggml.scores" }
        bad.add("tokenizer.ggml.scores", .array(.float32([0, 1])))
        let e = #expect(throws: GGUFError.self) { try openGGUF(bad.bytes).tokenizerData() }
        #expect({ if case .badMetadata(_, "tokenizer.ggml.scores", _) = e { true } else { false } }())

        var none = GGUFTestWriter()
        none.add("general.architecture", .string("llama"))
        let e2 = #expect(throws: GGUFError.self) { try openGGUF(none.bytes).tokenizerData() }
        #expect({ if case .missingKey(_, "tokenizer.ggml.model") = e2 { true } else { false } }())
    }
}
