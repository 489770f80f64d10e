import Foundation
import Testing

/// Pipeline bubbles, read from `--trace-file`: one request leaves each of two stages idle about
/// half the time; 32 requests keep both busy with evenly sized in-flight batches.
///
/// The fixtures' tiny models compute a step in ~0.1 ms, so process wake-ups would dominate any
/// timeline; these tests write a random 8-layer, hidden-512 Llama (100 MB, ~17 ms per stage step)
/// whose steps look like a real model's.
@Suite(.serialized) struct PipelineTraceTests {
    static let model: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shardline-medium-llama-\(getpid())")
        try! RandomLlama.write(to: dir, tokenizerFrom: GenerateCommandTests.fixtures.appendingPathComponent("tiny-llama"))
        return dir
    }()

    func run(prompts: Int, trace: URL) throws -> ProcessResult {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("shardline-trace-prompts-\(getpid()).txt")
        try (1...prompts).map { "Prompt number \($0) about pipelines and stages" }.joined(separator: "\n")
            .write(to: file, atomically: true, encoding: .utf8)
        return try runShardline(["generate", "--model", Self.model.path, "--prompt-file", file.path, "--max-tokens", "64",
                                 "--ignore-eos", "-pp", "2", "--kv-cache-memory", "64MiB", "--max-model-len", "256",
                                 // Prefill in chunks of ≤ 128 tokens per in-flight batch, so a prefill batch and a
                                 // decode batch in the pipeline carry similar work.
                                 "--max-num-batched-tokens", "256",
                                 "--trace-file", trace.path], timeout: 120)
    }

    /// stage → busy fraction, from `shardline trace-summary`.
    func busy(_ trace: URL) throws -> [Int: Double] {
        let summary = try runShardline(["trace-summary", trace.path])
        #expect(summary.status == 0, "\(summary.stderr)")
        var result: [Int: Double] = [:]
        for line in summary.stdout.split(separator: "\n") where line.hasPrefix("stage ") {
            let parts = line.split(separator: " ")
            if let stage = Int(parts[1].dropLast()), let percent = Double(parts[3].prefix { $0 != "%" }) { result[stage] = percent / 100 }
        }
        return result
    }

    @Test func oneRequestLeavesEachStageIdleAboutHalfTheTime() throws {
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("shardline-trace1-\(getpid()).json")
        let result = try run(prompts: 1, trace: trace)
        try #require(result.status == 0, "\(result.stderr)")
        let stages = try busy(trace)
        #expect(stages.count == 2)
        for (stage, b) in stages { #expect(b > 0.3 && b < 0.7, "stage \(stage) busy \(b)") }
    }

    @Test func thirtyTwoRequestsKeepBothStagesBusyWithEvenBatches() throws {
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("shardline-trace32-\(getpid()).json")
        let result = try run(prompts: 32, trace: trace)
        try #require(result.status == 0, "\(result.stderr)")
        // Release builds measure a median of ~92% on both stages here (issue 6's note; three busy
        // threads share two hyperthreads); an unfilled pipeline would sit near 50%. The bar
        // leaves room for a debug build and a busy CI machine.
        let stages = try busy(trace)
        #expect(stages.count == 2)
        for (stage, b) in stages { #expect(b >= 0.75, "stage \(stage) busy \(b)") }

        // One track per device, named; in-flight batches of the steady state within 2x in tokens.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: trace)) as! [String: Any]
        let events = json["traceEvents"] as! [[String: Any]]
        let names = events.filter { $0["name"] as? String == "thread_name" }.compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
        #expect(names.sorted() == ["rank 0 · stage 0 · tp 0", "rank 1 · stage 1 · tp 0"])
        let decode = events.filter { $0["ph"] as? String == "X" && $0["tid"] as? Int == 0
            && ($0["args"] as? [String: Any])?["phase"] as? String == "decode" }
        let tokens = decode.compactMap { ($0["args"] as? [String: Any])?["tokens"] as? Int }.dropFirst(4).dropLast(4)
        #expect(!tokens.isEmpty)
        #expect(tokens.max()! <= 2 * tokens.min()!, "\(Array(tokens))")
    }
}

/// A random-weight Llama checkpoint (safetensors, f32) with a fixture's tokenizer.
enum RandomLlama {
    static func write(to dir: URL, tokenizerFrom fixture: URL, hidden: Int = 512, intermediate: Int = 1536, layers: Int = 8) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for file in ["tokenizer.json", "tokenizer_config.json"] {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(file))
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture.appendingPathComponent("config.json"))) as! [String: Any]
        let vocab = config["vocab_size"] as! Int
        config["hidden_size"] = hidden
        config["intermediate_size"] = intermediate
        config["num_hidden_layers"] = layers
        config["num_attention_heads"] = 8
        config["num_key_value_heads"] = 4
        config["tie_word_embeddings"] = true
        config["head_dim"] = nil
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))

        var tensors: [(String, [Int])] = [("model.embed_tokens.weight", [vocab, hidden]), ("model.norm.weight", [hidden])]
        let kv = hidden / 2
        for l in 0..<layers {
            let p = "model.layers.\(l)."
            tensors += [(p + "input_layernorm.weight", [hidden]), (p + "post_attention_layernorm.weight", [hidden]),
                        (p + "self_attn.q_proj.weight", [hidden, hidden]), (p + "self_attn.k_proj.weight", [kv, hidden]),
                        (p + "self_attn.v_proj.weight", [kv, hidden]), (p + "self_attn.o_proj.weight", [hidden, hidden]),
                        (p + "mlp.gate_proj.weight", [intermediate, hidden]), (p + "mlp.up_proj.weight", [intermediate, hidden]),
                        (p + "mlp.down_proj.weight", [hidden, intermediate])]
        }
        var header: [String: Any] = [:], offset = 0
        for (name, shape) in tensors {
            let bytes = shape.reduce(4, *)
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var headerBytes = try JSONSerialization.data(withJSONObject: header)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(headerBytes)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for (_, shape) in tensors {
            let count = shape.reduce(1, *)
            var values = [Float](repeating: 1, count: count)
            if shape.count == 2 {
                for i in 0..<count {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    values[i] = (Float(state >> 40) / Float(1 << 24) - 0.5) * 0.07
                }
            }
            values.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        try data.write(to: dir.appendingPathComponent("model.safetensors"))
    }
}
