import Foundation
import Testing
@testable import Planner

@Suite struct CatalogTests {
    @Test func loadsEveryEntryWithItsSources() throws {
        let c = try Catalog.load()
        #expect(c.models.count == 19)
        #expect(c.gpus.count == 15)
        #expect(c.links.count == 12)  // 11 published links + the measured shared-memory link
        #expect(c.models.allSatisfy { !$0.source.entries.isEmpty })
        #expect(c.gpus.allSatisfy { !$0.source.entries.isEmpty })
        #expect(c.links.allSatisfy { !$0.source.entries.isEmpty })
    }

    @Test func aGPUFileWithASerialShareOutsideZeroToOneIsAnErrorNamingTheFile() throws {
        var gpu = try Catalog.load().gpu("l4")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gpu-share-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        for (share, ok) in [(0.6, true), (1.0, true), (1.5, false), (-0.1, false)] {
            gpu.gemmSerialFraction = share
            try JSONEncoder().encode(gpu).write(to: file)
            if ok {
                #expect(try Catalog.gpu(file: file.path).gemmSerialFraction == share)
            } else {
                #expect { try Catalog.gpu(file: file.path) } throws: { error in
                    "\(error)".contains(file.path) && "\(error)".contains("gemm_serial_fraction must be between 0 and 1")
                }
            }
        }
    }

    @Test func h100IsEightyGiB() {
        #expect(Fixtures.gpu("h100-sxm").memoryBytes == 80 << 30)
    }

    /// Our shape-based count against the catalog's independent computation from the same shapes.
    @Test(arguments: ["llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "mixtral-8x7b", "mixtral-8x22b",
                      "deepseek-v3", "qwen2.5-7b", "qwen2.5-72b", "qwen3-30b-a3b", "qwen3-235b-a22b", "gemma-3-27b"])
    func parameterCountsMatchTheCatalogCrossCheck(id: String) throws {
        let m = Fixtures.model(id)
        let computed = try #require(m.computedParams)
        let ours = ParameterCount(m)
        #expect(abs(ours.total / computed.total - 1) < 0.005, "\(id): \(ours.total) vs \(computed.total)")
        #expect(abs(ours.active / computed.active - 1) < 0.01, "\(id): \(ours.active) vs \(computed.active)")
    }

    @Test func kvBytesPerTokenLlama31_8B() {
        // 2 (K and V) × 32 layers × 8 KV heads × 128 head dim × 2 bytes.
        #expect(Fixtures.model("llama-3.1-8b").kvBytesPerToken(bytesPerElement: 2) == 2 * 32 * 8 * 128 * 2)
        #expect(Fixtures.model("llama-3.1-8b").kvBytesPerToken(bytesPerElement: 2) == 131_072)
    }

    @Test func kvBytesPerTokenGQAAndMLA() {
        #expect(Fixtures.model("llama-3.1-70b").kvBytesPerToken() == 327_680)
        // MLA: 61 layers × (512 latent + 64 rope) × 2 bytes, shared by all heads and not split by TP.
        let ds = Fixtures.model("deepseek-v3")
        #expect(ds.kvBytesPerToken() == 70_272)
        #expect(ds.kvElementsPerTokenPerLayer(tp: 8) == 576)
        // Qwen3-30B-A3B sets head_dim 128 explicitly (hidden/heads would be 64).
        #expect(Fixtures.model("qwen3-30b-a3b").kvBytesPerToken() == 2 * 48 * 4 * 128 * 2)
    }

    @Test func kvHeadsAreReplicatedWhenTPExceedsThem() {
        let m = Fixtures.model("llama-3.1-70b")  // 8 KV heads
        #expect(m.kvElementsPerTokenPerLayer(tp: 4) == 2 * 2 * 128)
        #expect(m.kvElementsPerTokenPerLayer(tp: 16) == 2 * 1 * 128)
    }

    @Test func slidingWindowLayersKeepOnlyTheirWindow() {
        let g = Fixtures.model("gemma-3-27b")  // 10 full + 52 sliding layers, window 1024, 16 KV heads × 128
        let perLayer = 2 * 16 * 128 * 2
        #expect(g.kvBytesPerSequence(length: 8192) == perLayer * (10 * 8192 + 52 * 1024))
    }

    @Test func readsAHuggingFaceConfig() throws {
        let json = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
         "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
         "max_position_embeddings": 131072, "tie_word_embeddings": false, "torch_dtype": "bfloat16"}
        """
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("planner-hf-\(UInt64.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("config.json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        let m = try ModelSpec(huggingFaceConfigAt: path, id: "llama-local")
        let catalog = Fixtures.model("llama-3.1-8b")
        #expect(m.kvBytesPerToken() == 131_072)
        #expect(ParameterCount(m).total == ParameterCount(catalog).total)
        #expect(m.source.entries == [path])
    }

    @Test func readsAnMLAConfig() throws {
        let json = """
        {"model_type": "deepseek_v3", "hidden_size": 7168, "intermediate_size": 18432, "num_hidden_layers": 61,
         "num_attention_heads": 128, "num_key_value_heads": 128, "vocab_size": 129280, "max_position_embeddings": 163840,
         "n_routed_experts": 256, "num_experts_per_tok": 8, "moe_intermediate_size": 2048, "n_shared_experts": 1,
         "first_k_dense_replace": 3, "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64,
         "qk_nope_head_dim": 128, "v_head_dim": 128}
        """
        let m = try ModelSpec(huggingFaceConfig: Data(json.utf8), id: "ds", source: "inline")
        #expect(m.kvBytesPerToken() == 70_272)
        let catalog = ParameterCount(Fixtures.model("deepseek-v3"))
        #expect(abs(ParameterCount(m).total / catalog.total - 1) < 1e-9)
    }
}
