import Foundation
import ModelFormats
import Testing

@Suite struct ModelConfigTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures")

    @Test func tinyLlama() throws {
        let c = try ModelConfig.load(directory: Self.fixtures.appendingPathComponent("tiny-llama").path)
        #expect(c.architecture == .llama)
        #expect(c.hiddenSize == 64 && c.numLayers == 4 && c.numHeads == 4 && c.numKVHeads == 2 && c.headDim == 16)
        #expect(c.intermediateSize == 128 && c.vocabSize == 512 && c.rmsNormEps == 1e-6)
        #expect(c.ropeTheta == 10_000 && c.ropeScaling == .none)
        #expect(!c.tieWordEmbeddings && !c.attentionBias && c.slidingWindow == nil && !c.isMoE)
        #expect(c.eosTokenIds == [2] && c.bosTokenId == 1)
    }

    @Test func tinyQwen2HasBiasAndTiedEmbeddings() throws {
        let c = try ModelConfig.load(directory: Self.fixtures.appendingPathComponent("tiny-qwen2").path)
        #expect(c.architecture == .qwen2 && c.attentionBias && c.tieWordEmbeddings && c.slidingWindow == nil)
    }

    @Test func tinyMixtralHasExperts() throws {
        let c = try ModelConfig.load(directory: Self.fixtures.appendingPathComponent("tiny-mixtral").path)
        #expect(c.architecture == .mixtral && c.numExperts == 8 && c.numExpertsPerToken == 2 && c.isMoE)
    }

    @Test func llama3RopeScalingAtTopLevel() throws {
        let json = """
            {"model_type":"llama","hidden_size":2048,"num_hidden_layers":16,"num_attention_heads":32,
             "num_key_value_heads":8,"intermediate_size":8192,"vocab_size":128256,"rms_norm_eps":1e-5,
             "rope_theta":500000.0,"tie_word_embeddings":true,"eos_token_id":[128001,128008,128009],
             "rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,
                             "original_max_position_embeddings":8192,"rope_type":"llama3"}}
            """
        let c = try ModelConfig(huggingFaceJSON: Data(json.utf8))
        #expect(c.headDim == 64 && c.ropeTheta == 500_000 && c.tieWordEmbeddings)
        #expect(c.ropeScaling == .llama3(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192))
        #expect(c.eosTokenIds == [128001, 128008, 128009])
    }

    @Test func mistralSlidingWindow() throws {
        let json = """
            {"model_type":"mistral","hidden_size":4096,"num_hidden_layers":2,"num_attention_heads":32,
             "num_key_value_heads":8,"intermediate_size":14336,"vocab_size":32000,"sliding_window":4096,
             "rope_theta":10000.0}
            """
        let c = try ModelConfig(huggingFaceJSON: Data(json.utf8))
        #expect(c.slidingWindow == 4096 && c.layerTypes == [.sliding, .sliding])
    }

    @Test func gemma3TextConfigWithPerLayerRope() throws {
        let json = """
            {"model_type":"gemma3","text_config":{"model_type":"gemma3_text","hidden_size":640,
             "num_hidden_layers":6,"num_attention_heads":4,"num_key_value_heads":1,"head_dim":256,
             "intermediate_size":2048,"vocab_size":262144,"sliding_window":512,"query_pre_attn_scalar":256,
             "hidden_activation":"gelu_pytorch_tanh",
             "rope_parameters":{"full_attention":{"rope_type":"default","rope_theta":1000000.0},
                                "sliding_attention":{"rope_type":"default","rope_theta":10000.0}}}}
            """
        let c = try ModelConfig(huggingFaceJSON: Data(json.utf8))
        #expect(c.architecture == .gemma3 && c.headDim == 256 && c.tieWordEmbeddings)
        #expect(c.ropeTheta == 1_000_000 && c.ropeLocalTheta == 10_000)
        #expect(c.layerTypes == [.sliding, .sliding, .sliding, .sliding, .sliding, .full])
        #expect(c.hiddenAct == "gelu_pytorch_tanh" && c.attentionScale == 1.0 / 16)
        // Five sliding layers stop at their 512-position window; the global one reads everything.
        #expect(c.kvPositionsRead(context: 100, layers: 0..<6) == 600)
        #expect(c.kvPositionsRead(context: 2000, layers: 0..<6) == 5 * 512 + 2000)
        #expect(c.kvPositionsRead(context: 2000, layers: 3..<5) == 2 * 512)
    }

    @Test func unknownArchitectureListsSupported() throws {
        let json = #"{"model_type":"bert","hidden_size":8}"#
        let error = #expect(throws: ModelFormatError.self) { try ModelConfig(huggingFaceJSON: Data(json.utf8), path: "m/config.json") }
        #expect(error?.description == "m/config.json: unsupported architecture 'bert'; supported: llama, mistral, qwen2, mixtral, gemma3")
    }

    @Test(arguments: [
        (#"{"model_type":"llama"}"#, "missing 'hidden_size'"),
        (#"{"model_type":"llama","hidden_size":"big","num_attention_heads":4,"num_hidden_layers":1}"#, "'hidden_size' must be an integer"),
        (#"{"model_type":"llama","hidden_size":64,"num_attention_heads":4,"num_key_value_heads":3,"num_hidden_layers":1}"#, "not a multiple"),
        (#"{"hidden_size":64}"#, "missing 'model_type'"),
        (#"{"model_type":"llama","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":1,"rms_norm_eps":-1e-5}"#,
         "'rms_norm_eps' must be a finite number >= 0, found -1e-05"),
        (#"{"model_type":"llama","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":1,"rope_theta":0}"#,
         "'rope_theta' must be a finite number > 0, found 0.0"),
        (#"{"model_type":"llama","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":1,"max_position_embeddings":0}"#,
         "'max_position_embeddings' must be > 0, found 0"),
        ("not json", "not a JSON object"),
    ])
    func malformedConfigsNameTheProblem(json: String, expected: String) throws {
        let error = #expect(throws: ModelFormatError.self) { try ModelConfig(huggingFaceJSON: Data(json.utf8)) }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "no error")")
    }
}
