import Foundation
import Testing
@testable import Tokenizers

/// Small hand-written tokenizer.json files exercising options the fixtures do not.
@Suite struct SyntheticTokenizerTests {
    /// Byte-level vocab: all 256 byte characters, then a few merged tokens.
    static func byteLevelVocab(extra: [String]) -> (vocab: String, ids: [String: Int]) {
        var ids: [String: Int] = [:]
        for b in 0..<256 { ids[String(ByteLevelAlphabet.byteToScalar[b])] = b }
        for (k, t) in extra.enumerated() { ids[t] = 256 + k }
        let data = try! JSONSerialization.data(withJSONObject: ids, options: [.sortedKeys])
        return (String(decoding: data, as: UTF8.self), ids)
    }

    func tokenizer(_ json: String, config: String? = nil) throws -> BPETokenizer {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try dir.write("tokenizer.json", json)
        if let config { try dir.write("tokenizer_config.json", config) }
        return try BPETokenizer(directory: dir.url)
    }

    static let merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "Ġw o"]
    static let extra = ["he", "ll", "hell", "hello", "Ġw", "Ġwo"]

    func json(merges: String, extraTop: String = "", preTokenizer: String? = nil, model: String = "") -> String {
        let (vocab, _) = Self.byteLevelVocab(extra: Self.extra)
        let pre = preTokenizer ?? #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#
        return #"""
        {"added_tokens": [{"id": 400, "content": "<|end|>", "special": true, "lstrip": false, "rstrip": false, "normalized": false},
                          {"id": 401, "content": "<tool>", "special": false, "lstrip": true, "rstrip": true, "normalized": false},
                          {"id": 402, "content": "<|end|>x", "special": true, "normalized": false}],
         "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}]},
         "pre_tokenizer": \#(pre),
         "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|end|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                            "special_tokens": {"<|end|>": {"id": "<|end|>", "ids": [400], "tokens": ["<|end|>"]}}},
         "decoder": {"type": "ByteLevel"},
         \#(extraTop)
         "model": {"type": "BPE", \#(model) "vocab": \#(vocab), "merges": \#(merges)}}
        """#
    }

    @Test func stringAndPairMergesAgree() throws {
        let strings = "[" + Self.merges.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        let pairs = "[" + Self.merges.map { m in
            let p = m.split(separator: " ")
            return "[\"\(p[0])\", \"\(p[1])\"]"
        }.joined(separator: ",") + "]"
        let a = try tokenizer(json(merges: strings))
        let b = try tokenizer(json(merges: pairs))
        let ids = a.encode("hello world", addSpecialTokens: false)
        #expect(ids == [259, 261, Int(UInt8(ascii: "r")), Int(UInt8(ascii: "l")), Int(UInt8(ascii: "d"))])
        #expect(b.encode("hello world", addSpecialTokens: false) == ids)
        #expect(a.encode("hello") == [400, 259])  // TemplateProcessing prepends <|end|>
        #expect(a.decode(ids) == "hello world")
        #expect(a.vocabSize == 403)
    }

    @Test func addedTokensLongestMatchAndStripping() throws {
        let t = try tokenizer(json(merges: "[\"h e\"]"))
        // "<|end|>x" is longer than "<|end|>" and wins.
        #expect(t.encode("a<|end|>xb<|end|>", addSpecialTokens: false) == [97, 402, 98, 400])
        // <tool> has lstrip/rstrip: it swallows the spaces around it.
        #expect(t.encode("a  <tool>  b", addSpecialTokens: false) == [97, 401, 98])
        #expect(t.decode([97, 402, 400], skipSpecialTokens: true) == "a")
        #expect(t.decode([97, 401], skipSpecialTokens: true) == "a<tool>")  // not special: kept
    }

    @Test func byteLevelPrefixSpaceAndNoRegex() throws {
        let pre = #"{"type": "ByteLevel", "add_prefix_space": true, "use_regex": false}"#
        let t = try tokenizer(json(merges: "[\"Ġ w\", \"Ġw o\"]", preTokenizer: pre))
        // use_regex false: the whole string is one word; add_prefix_space prepends "Ġ".
        #expect(t.encode("wo", addSpecialTokens: false) == [261])
        #expect(t.encode(" wo", addSpecialTokens: false) == [261])
    }

    @Test func ignoreMergesUsesWholeWordTokens() throws {
        // "hello" is in the vocab but no merges build it: ignore_merges returns it directly.
        let t = try tokenizer(json(merges: "[]", model: #""ignore_merges": true,"#))
        #expect(t.encode("hello", addSpecialTokens: false) == [259])
        let u = try tokenizer(json(merges: "[]", model: #""ignore_merges": false,"#))
        #expect(u.encode("hello", addSpecialTokens: false) == Array("hello".utf8).map(Int.init))
    }

    @Test func splitBehaviors() throws {
        func pieces(_ behavior: String, _ text: String) throws -> [String] {
            let json = #"{"type": "Split", "pattern": {"String": "-"}, "behavior": "\#(behavior)", "invert": false}"#
            let data = json.data(using: .utf8)!
            let obj = JSONObject(dict: try JSONSerialization.jsonObject(with: data) as! [String: Any], path: "t.json", location: "")
            return try #require(try PreTokenizer.parse(obj)).apply([text])
        }
        #expect(try pieces("Isolated", "a-b--c") == ["a", "-", "b", "-", "-", "c"])
        #expect(try pieces("Removed", "a-b--c") == ["a", "b", "c"])
        #expect(try pieces("MergedWithPrevious", "a-b--c") == ["a-", "b-", "-", "c"])
        #expect(try pieces("MergedWithNext", "a-b--c") == ["a", "-b", "-", "-c"])
    }

    @Test func byteFallbackTokensDecodeToBytes() throws {
        // A SentencePiece-style BPE without ByteLevel: unknown characters fall back to <0xAB>.
        var vocab: [String: Int] = ["a": 0, "b": 1, "ab": 2]
        for b in 0..<256 { vocab[String(format: "<0x%02X>", b)] = 3 + b }
        let data = try JSONSerialization.data(withJSONObject: vocab, options: [.sortedKeys])
        let json = #"""
        {"decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]},
         "model": {"type": "BPE", "byte_fallback": true, "vocab": \#(String(decoding: data, as: UTF8.self)), "merges": [["a", "b"]]}}
        """#
        let t = try tokenizer(json)
        let ids = t.encode("ab€")
        #expect(ids == [2, 3 + 0xE2, 3 + 0x82, 3 + 0xAC])
        #expect(t.decode(ids) == "ab€")
        #expect(t.decode([2, 3 + 0xE2]) == "ab\u{FFFD}")
        var streaming = IncrementalDetokenizer(tokenizer: t)
        #expect(streaming.feed([2, 3 + 0xE2, 3 + 0x82]) == "ab")
        #expect(streaming.feed(3 + 0xAC) == "€")
    }

    @Test func bosAndEosFromConfigAsStringOrObject() throws {
        let config = #"{"bos_token": {"content": "<|end|>", "special": true}, "eos_token": "<tool>"}"#
        let t = try tokenizer(json(merges: "[]"), config: config)
        #expect(t.bosTokenId == 400)
        #expect(t.eosTokenId == 401)
    }

    @Test func longWordUsesHeapMergeAndMatchesShortPath() throws {
        // 200 × "hello" with no spaces is one 1,000-symbol word (heap path); each "hello"
        // must still collapse to one token, as with the short path.
        let t = try tokenizer(json(merges: "[" + Self.merges.map { "\"\($0)\"" }.joined(separator: ",") + "]"))
        let long = String(repeating: "hello", count: 200)
        #expect(t.encode(long, addSpecialTokens: false) == Array(repeating: 259, count: 200))
        #expect(t.encode("hello", addSpecialTokens: false) == [259])
    }
}
