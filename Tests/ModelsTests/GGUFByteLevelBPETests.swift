import Foundation
import ModelFormats
import Models
import Testing
import Tokenizers

/// A GGUF `gpt2` vocabulary (Qwen2's, from the qwen-tokenizer fixture, written as llama.cpp's
/// converter writes it) must tokenize like the tokenizer.json it came from.
@Suite struct GGUFByteLevelBPETests {
    static func ggufTokenizer() throws -> any Tokenizer {
        let root = URL(fileURLWithPath: Fixtures.path("qwen-tokenizer"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("tokenizer.json"))) as! [String: Any]
        let model = json["model"] as! [String: Any]
        var tokens: [String: Int] = model["vocab"] as! [String: Int]
        var types: [Int: Int32] = [:]
        for added in json["added_tokens"] as! [[String: Any]] {
            tokens[added["content"] as! String] = added["id"] as? Int
            types[added["id"] as! Int] = (added["special"] as? Bool ?? false) ? 3 : 4
        }
        var list = [String](repeating: "", count: (tokens.values.max() ?? 0) + 1)
        for (token, id) in tokens { list[id] = token }
        let merges = (model["merges"] as! [Any]).map { m -> String in
            if let s = m as? String { return s }
            return (m as! [String]).joined(separator: " ")
        }
        var w = GGUFTestWriter()
        w.add("general.architecture", .string("qwen2"))
        w.add("tokenizer.ggml.model", .string("gpt2"))
        w.add("tokenizer.ggml.pre", .string("qwen2"))
        w.add("tokenizer.ggml.tokens", .array(.string(list)))
        w.add("tokenizer.ggml.token_type", .array(.int32((0..<list.count).map { types[$0] ?? 1 })))
        w.add("tokenizer.ggml.merges", .array(.string(merges)))
        w.add("tokenizer.ggml.eos_token_id", .uint32(UInt32(tokens["<|endoftext|>"]!)))
        w.add("tokenizer.ggml.add_bos_token", .bool(false))
        return try TokenizerLoader.load(gguf: try openGGUF(w.build().bytes, name: "qwen-vocab.gguf"))
    }

    @Test func everyFixtureCaseEncodesAsTheJSONTokenizerDoes() throws {
        let gguf = try Self.ggufTokenizer()
        let reference = try BPETokenizer(directory: URL(fileURLWithPath: Fixtures.path("qwen-tokenizer")))
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("qwen-tokenizer/reference.json")))
        let cases = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["cases"] as! [[String: Any]]
        #expect(cases.count > 50)
        for c in cases {
            // llama.cpp applies no normalizer; the fixture's tokenizer.json applies NFC. Compare on NFC text.
            let text = (c["text"] as! String).precomposedStringWithCanonicalMapping
            #expect(gguf.encode(text) == reference.encode(text), "\(c["name"] ?? "")")
            let ids = reference.encode(text)
            #expect(gguf.decode(ids, skipSpecialTokens: false) == reference.decode(ids, skipSpecialTokens: false))
        }
    }

    @Test func anUnknownPreTokenizerIsAClearError() throws {
        var w = GGUFTestWriter()
        w.add("general.architecture", .string("qwen2"))
        w.add("tokenizer.ggml.model", .string("gpt2"))
        w.add("tokenizer.ggml.pre", .string("made-up"))
        w.add("tokenizer.ggml.tokens", .array(.string(["a", "b"])))
        w.add("tokenizer.ggml.merges", .array(.string(["a b"])))
        #expect(throws: (any Error).self) { try TokenizerLoader.load(gguf: try openGGUF(w.build().bytes)) }
    }
}
