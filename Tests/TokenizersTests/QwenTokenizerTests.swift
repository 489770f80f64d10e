import Foundation
import Testing
@testable import Tokenizers

/// Qwen2's real 151k vocabulary: regex Split + ByteLevel, NFC, three inline special tokens.
@Suite struct QwenTokenizerTests {
    static func cases() throws -> [[String: Any]] {
        try #require(try Fixtures.json("qwen-tokenizer/reference.json")["cases"] as? [[String: Any]])
    }

    @Test func loadsVocabularyAndSpecials() throws {
        let tokenizer = try Fixtures.qwen.get()
        #expect(tokenizer.vocabSize == 151_646)
        #expect(tokenizer.tokenId("<|endoftext|>") == 151_643)
        #expect(tokenizer.tokenId("<|im_start|>") == 151_644)
        #expect(tokenizer.tokenId("<|im_end|>") == 151_645)
        #expect(tokenizer.isSpecialToken(151_644))
        // No tokenizer_config.json in this fixture, so there is nothing to name BOS/EOS.
        #expect(tokenizer.bosTokenId == nil)
        #expect(tokenizer.encode("Hello world") == [9707, 1879])
        #expect(tokenizer.encode("<|im_start|>user\n") == [151_644, 872, 198])
        #expect(tokenizer.tokenString(1879) == "Ġworld")
        #expect(tokenizer.tokenString(-1) == nil)
        #expect(tokenizer.tokenString(10_000_000) == nil)
    }

    @Test func everyEncodeCaseMatchesReferenceIds() throws {
        let tokenizer = try Fixtures.qwen.get()
        let cases = try Self.cases()
        #expect(cases.count == 78)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let text = try #require(c["text"] as? String)
            let expected = Fixtures.ints(c["ids"])
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            #expect(ids == expected, "case \(name)")
            // Post-processor is ByteLevel only: addSpecialTokens changes nothing for Qwen.
            #expect(tokenizer.encode(text) == expected, "case \(name) with special tokens")
            let tokens = (c["tokens"] as? [String]) ?? []
            #expect(expected.map { tokenizer.tokenString($0) ?? "<nil>" } == tokens, "tokens of \(name)")
            #expect(tokenizer.decode(expected) == c["decoded"] as? String, "decode of \(name)")
            #expect(tokenizer.decode(expected, skipSpecialTokens: true) == c["decoded_skip_special"] as? String,
                    "decode (skip special) of \(name)")
        }
    }

    @Test func encodeCasesStreamThroughIncrementalDetokenizer() throws {
        let tokenizer = try Fixtures.qwen.get()
        for c in try Self.cases() {
            let ids = Fixtures.ints(c["ids"])
            for skip in [false, true] {
                var streaming = IncrementalDetokenizer(tokenizer: tokenizer, skipSpecialTokens: skip)
                var chunks = ids.map { streaming.feed($0) }
                #expect(!streaming.hasPendingBytes)
                chunks.append(streaming.finish())
                #expect(chunks.joined() == tokenizer.decode(ids, skipSpecialTokens: skip), "\(c["name"] ?? "?") skip=\(skip)")
                #expect(!chunks.contains { $0.contains("\u{FFFD}") }, "no replacement chars in valid text")
            }
        }
    }

    /// Long text speed: 5,000 characters → 1,864 ids. Prints cold (uncached) and warm timings.
    @Test func longTextEncodesQuickly() throws {
        let tokenizer = try Fixtures.qwen.get().withFreshCache()
        let c = try #require(try Self.cases().first { $0["name"] as? String == "long_text_5000_chars" })
        let text = try #require(c["text"] as? String)
        #expect(text.unicodeScalars.count == 5_000)  // Python's len(): code points
        let clock = ContinuousClock()
        var ids: [Int] = []
        let cold = clock.measure { ids = tokenizer.encode(text, addSpecialTokens: false) }
        #expect(ids == Fixtures.ints(c["ids"]))
        #expect(ids.count == 1_864)
        var warm = Duration.zero
        for _ in 0..<5 { warm += clock.measure { ids = tokenizer.encode(text, addSpecialTokens: false) } }
        let decodeTime = clock.measure { _ = tokenizer.decode(ids) }
        let cacheSize = tokenizer.cache.count
        print("[timing] 5,000-char encode (\(cacheSize) distinct words): first \(cold), cached avg \(warm / 5), decode \(decodeTime)")
        #expect(cold < .seconds(5))
    }
}
