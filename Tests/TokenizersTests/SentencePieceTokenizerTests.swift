import Foundation
import Testing
@testable import Tokenizers

/// A hand-built SPM vocabulary: <unk>, <s>, </s>, 256 byte tokens, then pieces added per test.
private struct SPVocab {
    var tokens: [String] = ["<unk>", "<s>", "</s>"]
    var scores: [Float] = [0, 0, 0]
    var types: [Int32] = [2, 3, 3]

    init() {
        for b in 0..<256 { add(String(format: "<0x%02X>", b), 0, 6) }
    }

    mutating func add(_ piece: String, _ score: Float = 0, _ type: Int32 = 1) {
        tokens.append(piece)
        scores.append(score)
        types.append(type)
    }

    func tokenizer(addBOS: Bool = false, addSpacePrefix: Bool = false) throws -> SentencePieceTokenizer {
        try SentencePieceTokenizer(tokens: tokens, scores: scores, tokenTypes: types, bosTokenId: 1, eosTokenId: 2,
                                   unknownTokenId: 0, addBOS: addBOS, addSpacePrefix: addSpacePrefix)
    }
}

/// Id of a byte token in `SPVocab`.
private func byte(_ b: UInt8) -> Int { 3 + Int(b) }

@Suite struct SentencePieceTokenizerTests {
    /// Single characters, "▁", and merges whose scores (not their position) decide the order.
    fileprivate static func lettersVocab() -> SPVocab {
        var v = SPVocab()
        for c in ["▁", "a", "b", "c", "d", "h", "e", "l", "o", "x"] { v.add(c, -100) }
        v.add("ab", -2)
        v.add("bc", -1)   // beats "ab": "abc" → a + bc
        v.add("cd", -3)
        v.add("he", -10)
        v.add("ll", -5)
        v.add("llo", -6)
        v.add("hello", -7)
        v.add("▁hello", -8)
        v.add("aa", -4)
        return v
    }

    func ids(_ t: SentencePieceTokenizer, _ pieces: [String]) -> [Int] {
        pieces.map { p in
            guard let id = t.tokenId(p) else { Issue.record("no piece \(p.debugDescription)"); return -1 }
            return id
        }
    }

    @Test func mergesHighestScoreFirst() throws {
        let t = try Self.lettersVocab().tokenizer()
        // "bc" (-1) outscores "ab" (-2) although "ab" is further left.
        #expect(t.encode("abc", addSpecialTokens: false) == ids(t, ["a", "bc"]))
        // "bc" (-1) goes first, which leaves neither "ab" nor "cd" to merge.
        #expect(t.encode("abcd", addSpecialTokens: false) == ids(t, ["a", "bc", "d"]))
        // Without a competing "bc" at that position, "ab" and "cd" both merge.
        #expect(t.encode("abab", addSpecialTokens: false) == ids(t, ["ab", "ab"]))
        // ll(-5), then llo(-6), then he(-10), and only then is he + llo = hello(-7) a candidate.
        #expect(t.encode("hello", addSpecialTokens: false) == ids(t, ["hello"]))
    }

    @Test func equalScoresMergeLeftmostFirst() throws {
        let t = try Self.lettersVocab().tokenizer()
        #expect(t.encode("aaa", addSpecialTokens: false) == ids(t, ["aa", "a"]))
        #expect(t.encode("aaaaa", addSpecialTokens: false) == ids(t, ["aa", "aa", "a"]))
    }

    @Test func mergeCreatesLongerPieceWhenInVocab() throws {
        var v = Self.lettersVocab()
        v.add("abc", -0.5)
        let t = try v.tokenizer()
        #expect(t.encode("abc", addSpecialTokens: false) == ids(t, ["abc"]))
    }

    @Test func spacesBecomeMetaspaceAndSpacePrefix() throws {
        let off = try Self.lettersVocab().tokenizer(addSpacePrefix: false)
        let on = try Self.lettersVocab().tokenizer(addSpacePrefix: true)
        #expect(off.encode("hello", addSpecialTokens: false) == ids(off, ["hello"]))
        #expect(on.encode("hello", addSpecialTokens: false) == ids(on, ["▁hello"]))
        #expect(off.encode("a hello", addSpecialTokens: false) == ids(off, ["a", "▁hello"]))
        #expect(on.encode("a hello", addSpecialTokens: false) == ids(on, ["▁", "a", "▁hello"]))
        // Decoding keeps the prefix space (pieces are concatenated as they are).
        #expect(on.decode(on.encode("hello", addSpecialTokens: false)) == " hello")
        #expect(off.decode(off.encode("a hello", addSpecialTokens: false)) == "a hello")
    }

    @Test func spacePrefixAlsoFollowsSpecialTokens() throws {
        var v = Self.lettersVocab()
        v.add("<start_of_turn>", 0, 3)
        let on = try v.tokenizer(addSpacePrefix: true)
        let sot = try #require(on.tokenId("<start_of_turn>"))
        #expect(on.encode("<start_of_turn>hello", addSpecialTokens: false) == [sot] + ids(on, ["▁hello"]))
        #expect(on.encode("hello<start_of_turn>hello", addSpecialTokens: false)
                == ids(on, ["▁hello"]) + [sot] + ids(on, ["▁hello"]))
    }

    @Test func unknownCharactersFallBackToBytes() throws {
        let t = try Self.lettersVocab().tokenizer()
        let emoji = "😀"  // F0 9F 98 80
        let ids = t.encode("a\(emoji)b", addSpecialTokens: false)
        #expect(ids == [t.tokenId("a")!, byte(0xF0), byte(0x9F), byte(0x98), byte(0x80), t.tokenId("b")!])
        #expect(t.decode(ids) == "a\(emoji)b")
        // A character between known ones does not merge with them.
        #expect(t.encode("aéa", addSpecialTokens: false) == [t.tokenId("a")!, byte(0xC3), byte(0xA9), t.tokenId("a")!])
    }

    @Test func byteFallbackWithoutByteTokensUsesUnknown() throws {
        let t = try SentencePieceTokenizer(
            tokens: ["<unk>", "a"], scores: [0, 0], tokenTypes: [2, 1], bosTokenId: nil, eosTokenId: nil,
            unknownTokenId: 0, addBOS: false, addSpacePrefix: false)
        #expect(t.encode("aéa") == [1, 0, 0, 1])
    }

    @Test func specialTokensAreMatchedBeforeMerging() throws {
        var v = Self.lettersVocab()
        v.add("<start_of_turn>", 0, 3)
        v.add("\n\n", 0, 4)          // user-defined: matched even without parseSpecial
        v.add("  ", 0, 4)            // user-defined spaces are stored with plain spaces
        v.add("a<", -0.1)            // would merge across the special token if it were not split first
        let t = try v.tokenizer()
        let sot = try #require(t.tokenId("<start_of_turn>"))
        let nn = try #require(t.tokenId("\n\n"))
        let sp = try #require(t.tokenId("  "))
        let a = try #require(t.tokenId("a")), b = try #require(t.tokenId("b"))
        #expect(t.encode("a<start_of_turn>b", addSpecialTokens: false) == [a, sot, b])
        #expect(t.encode("a\n\nb", addSpecialTokens: false) == [a, nn, b])
        #expect(t.encode("a  b", addSpecialTokens: false) == [a, sp, b])
        // "a b" has a single space: no user-defined match, becomes ▁.
        #expect(t.encode("a b", addSpecialTokens: false) == [a, t.tokenId("▁")!, b])
        // Without parseSpecial, control text is plain text (byte fallback here), user-defined still matches.
        let plain = t.encode("a<start_of_turn>b\n\nb", addSpecialTokens: false, parseSpecial: false)
        #expect(!plain.contains(sot))
        #expect(plain.first == t.tokenId("a<"))
        #expect(Array(plain.suffix(3)) == [b, nn, b])
        #expect(t.decode(plain) == "a<start_of_turn>b\n\nb")
    }

    @Test func longerSpecialTokensClaimTextFirstAsInLlamaCpp() throws {
        // llama.cpp takes special tokens longest first over the whole text, so in "xabcd" the
        // 4-byte "abcd" wins over "xab", which a left-to-right scan would have picked.
        var v = Self.lettersVocab()
        v.add("xab", 0, 3)
        v.add("abcd", 0, 3)
        let t = try v.tokenizer()
        #expect(t.encode("xabcd", addSpecialTokens: false) == [t.tokenId("x")!, t.tokenId("abcd")!])
        #expect(t.encode("xabxabcd", addSpecialTokens: false) == [t.tokenId("xab")!, t.tokenId("x")!, t.tokenId("abcd")!])
    }

    @Test func bosIsAddedOnlyWhenAskedAndConfigured() throws {
        let withBOS = try Self.lettersVocab().tokenizer(addBOS: true)
        let without = try Self.lettersVocab().tokenizer(addBOS: false)
        let a = try #require(withBOS.tokenId("a"))
        #expect(withBOS.encode("a") == [1, a])
        #expect(withBOS.encode("a", addSpecialTokens: false) == [a])
        #expect(withBOS.encode("") == [1])
        #expect(withBOS.encode("", addSpecialTokens: false) == [])
        #expect(without.encode("a") == [a])
        #expect(withBOS.bosTokenId == 1 && withBOS.eosTokenId == 2)
    }

    @Test func decodeHandlesEachTokenType() throws {
        var v = Self.lettersVocab()
        v.add("<unused0>", 0, 5)
        v.add("<start_of_turn>", 0, 3)
        v.add("\n\n", 0, 4)
        v.add("▁▁x▁", -1)
        let t = try v.tokenizer()
        let a = t.tokenId("a")!, sot = t.tokenId("<start_of_turn>")!
        #expect(t.decode([1, a, sot, t.tokenId("\n\n")!, 2]) == "<s>a<start_of_turn>\n\n</s>")
        #expect(t.decode([1, a, sot, t.tokenId("\n\n")!, 2], skipSpecialTokens: true) == "a\n\n")
        #expect(t.decode([t.tokenId("<unused0>")!, a]) == "a")
        #expect(t.decode([t.tokenId("▁▁x▁")!]) == "  x ")
        #expect(t.decode([0]) == "<unk>")
        #expect(t.decode([0], skipSpecialTokens: true) == "")
        #expect(t.isSpecialToken(1) && t.isSpecialToken(0) && t.isSpecialToken(sot))
        #expect(!t.isSpecialToken(a) && !t.isSpecialToken(t.tokenId("\n\n")!) && !t.isSpecialToken(-1))
        // Out-of-range ids are ignored, an invalid byte sequence is one U+FFFD.
        #expect(t.decode([a, 999_999, -3, byte(0xE2), byte(0x82)]) == "a\u{FFFD}")
        #expect(t.tokenString(byte(0x0A)) == "<0x0A>")
        #expect(t.tokenType(byte(0x0A)) == .byte)
    }

    @Test func roundTrip() throws {
        let t = try Self.lettersVocab().tokenizer(addBOS: true)
        for text in ["hello hello", "  leading", "trailing  ", "a\tb\nc", "日本語 😀 ok", "", "\u{0}x", "e\u{301}"] {
            #expect(t.decode(t.encode(text), skipSpecialTokens: true) == text)
        }
    }

    @Test func incrementalDetokenizerNeverEmitsPartialUTF8() throws {
        let t = try Self.lettersVocab().tokenizer(addBOS: true)
        let text = "hello 😀 日本 é!"
        let ids = t.encode(text)
        var streaming = IncrementalDetokenizer(tokenizer: t, skipSpecialTokens: true)
        var pieces: [String] = []
        for id in ids {
            let piece = streaming.feed(id)
            #expect(!piece.contains("\u{FFFD}"))
            pieces.append(piece)
        }
        pieces.append(streaming.finish())
        #expect(pieces.joined() == text)
        #expect(pieces.joined() == t.decode(ids, skipSpecialTokens: true))

        var emoji = IncrementalDetokenizer(tokenizer: t)
        #expect(emoji.feed(byte(0xF0)) == "")
        #expect(emoji.feed(byte(0x9F)) == "")
        #expect(emoji.feed(byte(0x98)) == "")
        #expect(emoji.hasPendingBytes)
        #expect(emoji.feed(byte(0x80)) == "😀")
        #expect(emoji.feed([byte(0xE2), byte(0x82)]) == "")
        #expect(emoji.finish() == "\u{FFFD}")
    }

    @Test func bothTokenizersWorkThroughTheProtocol() throws {
        let t: any Tokenizer = try Self.lettersVocab().tokenizer(addBOS: true)
        #expect(t.encode("hello", addSpecialTokens: true) == [1, t.tokenId("hello")!])
        #expect(t.decode([1, t.tokenId("hello")!], skipSpecialTokens: true) == "hello")
        #expect(t.vocabSize == Self.lettersVocab().tokens.count)
    }

    @Test func invalidVocabulariesAreRejected() throws {
        func make(_ tokens: [String], _ scores: [Float], _ types: [Int32], bos: Int? = nil, addBOS: Bool = false) throws {
            _ = try SentencePieceTokenizer(tokens: tokens, scores: scores, tokenTypes: types, bosTokenId: bos,
                                           eosTokenId: nil, unknownTokenId: nil, addBOS: addBOS, addSpacePrefix: false)
        }
        func message(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch { return "\(error)" }
        }
        let empty = message { try make([], [], []) }
        #expect(empty?.contains("empty") == true)
        let scores = message { try make(["a", "b"], [0], [1, 1]) }
        #expect(scores?.contains("tokenizer.ggml.scores") == true)
        #expect(scores?.contains("\n") == false)
        let types = message { try make(["a", "b"], [0, 0], [1]) }
        #expect(types?.contains("tokenizer.ggml.token_type") == true)
        let bos = message { try make(["a"], [0], [1], bos: 5) }
        #expect(bos?.contains("bos_token_id") == true)
        let noBOS = message { try make(["a"], [0], [1], addBOS: true) }
        #expect(noBOS?.contains("add_bos_token") == true)
        let badByte = message { try make(["<0xZZ>"], [0], [6]) }
        #expect(badByte?.contains("<0xZZ>") == true)
        #expect(throws: TokenizerError.self) { try make(["a", "b"], [0, 0], [1]) }
    }

    @Test func rawByteComparisonDistinguishesCanonicallyEquivalentPieces() throws {
        // Swift String equality would conflate these; llama.cpp compares bytes.
        var v = SPVocab()
        v.add("\u{E9}", -1)          // precomposed é
        v.add("e", -1)
        let t = try v.tokenizer()
        #expect(t.tokenId("e\u{301}") == nil)
        #expect(t.encode("e\u{301}", addSpecialTokens: false) == [t.tokenId("e")!, byte(0xCC), byte(0x81)])
    }
}
