import Compute
import Foundation
import ModelFormats
import Models
import Testing

/// Llama-family GGUFs: the fixtures' safetensors written out the way llama.cpp's converter
/// writes them (GGUF names, ne reversed, and for the "llama" architecture q/k rows permuted
/// for GGML's interleaved RoPE), then loaded back: the logits must be the safetensors model's.
@Suite struct LlamaGGUFTests {
    /// q and k in F16 (the quantized-row path, un-permuted by gathering rows), the rest F32.
    /// Mixtral's experts as llama.cpp writes them now (one `ffn_*_exps` tensor per role, experts
    /// outermost) or, with `mergedExperts: false`, as early Mixtral GGUFs did (`ffn_gate.E`).
    static func gguf(from model: String, arch: String, mergedExperts: Bool = true) throws -> GGUFFile {
        let dir = Fixtures.path(model)
        let c = try ModelConfig.load(directory: dir)
        let checkpoint = try SafeTensorsCheckpoint(directory: dir)
        var w = GGUFTestWriter()
        w.add("general.architecture", .string(arch))
        w.add("\(arch).block_count", .uint32(UInt32(c.numLayers)))
        w.add("\(arch).context_length", .uint32(UInt32(c.maxPositionEmbeddings)))
        w.add("\(arch).embedding_length", .uint32(UInt32(c.hiddenSize)))
        w.add("\(arch).feed_forward_length", .uint32(UInt32(c.intermediateSize)))
        w.add("\(arch).attention.head_count", .uint32(UInt32(c.numHeads)))
        w.add("\(arch).attention.head_count_kv", .uint32(UInt32(c.numKVHeads)))
        w.add("\(arch).rope.freq_base", .float32(Float(c.ropeTheta)))
        w.add("\(arch).attention.layer_norm_rms_epsilon", .float32(c.rmsNormEps))
        if c.numExperts > 0 {
            w.add("\(arch).expert_count", .uint32(UInt32(c.numExperts)))
            w.add("\(arch).expert_used_count", .uint32(UInt32(c.numExpertsPerToken)))
        }
        func floats(_ name: String) throws -> (shape: [Int], values: [Float]) {
            let t = try checkpoint.tensor(name)
            return (t.shape, try t.floats())
        }
        func f32(_ gguf: String, _ hf: String) throws {
            let (shape, values) = try floats(hf)
            w.addTensor(gguf, type: .f32, ne: shape.reversed(), data: values.withUnsafeBytes { Array($0) })
        }
        /// llama.cpp's `permute`: within each head, file row 2j + t holds Hugging Face row t·d/2 + j.
        func f16(_ gguf: String, _ hf: String, permuteHeads heads: Int?) throws {
            let (shape, values) = try floats(hf)
            let rows = shape[0], cols = shape[1]
            var out = [UInt16](repeating: 0, count: values.count)
            for f in 0..<rows {
                var source = f
                if let heads {
                    let d = rows / heads, h = f / d, within = f % d
                    source = h * d + (within % 2) * (d / 2) + within / 2
                }
                for c in 0..<cols { out[f * cols + c] = Float16(values[source * cols + c]).bitPattern.littleEndian }
            }
            w.addTensor(gguf, type: .f16, ne: [cols, rows], data: out.withUnsafeBytes { Array($0) })
        }
        let permute = arch == "llama"
        try f32("token_embd.weight", "model.embed_tokens.weight")
        try f32("output_norm.weight", "model.norm.weight")
        if checkpoint.contains("lm_head.weight") { try f32("output.weight", "lm_head.weight") }
        for i in 0..<c.numLayers {
            let p = "model.layers.\(i).", b = "blk.\(i)."
            try f32(b + "attn_norm.weight", p + "input_layernorm.weight")
            try f32(b + "ffn_norm.weight", p + "post_attention_layernorm.weight")
            try f16(b + "attn_q.weight", p + "self_attn.q_proj.weight", permuteHeads: permute ? c.numHeads : nil)
            try f16(b + "attn_k.weight", p + "self_attn.k_proj.weight", permuteHeads: permute ? c.numKVHeads : nil)
            try f32(b + "attn_v.weight", p + "self_attn.v_proj.weight")
            try f32(b + "attn_output.weight", p + "self_attn.o_proj.weight")
            if c.numExperts > 0 {
                try f32(b + "ffn_gate_inp.weight", p + "block_sparse_moe.gate.weight")
                for (role, hf) in [("gate", "w1"), ("up", "w3"), ("down", "w2")] {
                    let experts = try (0..<c.numExperts).map { try floats(p + "block_sparse_moe.experts.\($0).\(hf).weight") }
                    if mergedExperts {
                        let shape = experts[0].shape
                        w.addTensor(b + "ffn_\(role)_exps.weight", type: .f32, ne: [shape[1], shape[0], c.numExperts],
                                    data: experts.flatMap(\.values).withUnsafeBytes { Array($0) })
                    } else {
                        for e in 0..<c.numExperts { try f32(b + "ffn_\(role).\(e).weight", p + "block_sparse_moe.experts.\(e).\(hf).weight") }
                    }
                }
            } else {
                try f32(b + "ffn_gate.weight", p + "mlp.gate_proj.weight")
                try f32(b + "ffn_up.weight", p + "mlp.up_proj.weight")
                try f32(b + "ffn_down.weight", p + "mlp.down_proj.weight")
            }
            if c.attentionBias {
                for x in ["q", "k", "v"] { try f32(b + "attn_\(x).bias", p + "self_attn.\(x)_proj.bias") }
            }
        }
        return try openGGUF(w.build().bytes, name: "\(model).gguf")
    }

    @Test(arguments: [("tiny-llama", "llama", true), ("tiny-qwen2", "qwen2", true), ("tiny-mixtral", "llama", true),
                      ("tiny-mixtral", "llama", false)])
    func aConvertedGGUFGivesTheSafetensorsLogits(model: String, arch: String, mergedExperts: Bool) throws {
        let file = try Self.gguf(from: model, arch: arch, mergedExperts: mergedExperts)
        let fromGGUF = try ModelLoader.load(gguf: file, config: try ModelConfig(gguf: file))
        let dir = Fixtures.path(model)
        let fromSafetensors = try ModelLoader.load(directory: dir)
        for prompt in try Fixtures.reference(model).prompts {
            let a = TextGenerator(model: fromGGUF).promptLogits(prompt.token_ids)
            let b = TextGenerator(model: fromSafetensors).promptLogits(prompt.token_ids)
            let last = a.rowCount - 1
            let error = (0..<a.rowLength).map { abs(a.row(last)[$0] - b.row(last)[$0]) }.max()!
            // q/k rounded to f16: differences of ~1e-3 at most; a wrong permutation moves logits by ~0.1–1.
            #expect(error < 0.01, "\(model) \(prompt.text.prefix(16)): max |Δlogit| \(error)")
            let ids = TextGenerator(model: fromGGUF).generate(prompt: prompt.token_ids, maxTokens: 8, stopTokenIds: [])
            #expect(ids == Array(prompt.greedy_nocache_ignore_eos_ids.prefix(8)), "\(model) \(prompt.text.prefix(16))")
        }
    }

    @Test func aLlamaGGUFLoadedWithoutUndoingThePermutationWouldBeWrong() throws {
        // The check above can fail: the same file read as qwen2 (no un-permutation) drifts.
        let file = try Self.gguf(from: "tiny-llama", arch: "llama")
        var config = try ModelConfig(gguf: file)
        config.architecture = .qwen2
        config.attentionBias = false
        let wrong = try ModelLoader.load(gguf: file, config: config)
        let right = try ModelLoader.load(directory: Fixtures.path("tiny-llama"))
        let tokens = try Fixtures.reference("tiny-llama").prompts[0].token_ids
        let a = TextGenerator(model: wrong).promptLogits(tokens), b = TextGenerator(model: right).promptLogits(tokens)
        let last = a.rowCount - 1
        #expect((0..<a.rowLength).map { abs(a.row(last)[$0] - b.row(last)[$0]) }.max()! > 0.05)
    }
}
