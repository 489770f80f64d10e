import Foundation
import Testing
@testable import Tokenizers

/// `decode_only` cases: tokens that split multi-byte characters or carry invalid UTF-8.
@Suite struct QwenDecodeOnlyTests {
    static func cases() throws -> [[String: Any]] {
        try #require(try Fixtures.json("qwen-tokenizer/reference.json")["decode_only"] as? [[String: Any]])
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        let u = Array(hex.utf8)
        return stride(from: 0, to: u.count, by: 2).map { UInt8(String(decoding: u[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    @Test func fullAndPrefixDecodesMatch() throws {
        let tokenizer = try Fixtures.qwen.get()
        let cases = try Self.cases()
        #expect(cases.count == 10)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let ids = Fixtures.ints(c["ids"])
            // The fixture lists each token's bytes: our byte mapping must agree.
            let hex = c["token_bytes_hex"] as? [String] ?? []
            for (id, h) in zip(ids, hex) {
                #expect(tokenizer.tokenBytes(id, skipSpecialTokens: false) == Self.hexBytes(h), "bytes of \(id) in \(name)")
            }
            #expect(tokenizer.decode(ids) == c["expected_full_decode"] as? String, "full decode of \(name)")
            if let prefixes = c["prefix_decodes_lossy"] as? [String] {
                for k in 0..<ids.count {
                    #expect(tokenizer.decode(Array(ids[...k])) == prefixes[k], "prefix \(k) of \(name)")
                }
            }
        }
    }

    @Test func incrementalDetokenizerEmitsOnlyCompleteCharacters() throws {
        let tokenizer = try Fixtures.qwen.get()
        for c in try Self.cases() {
            let name = c["name"] as? String ?? "?"
            let ids = Fixtures.ints(c["ids"])
            let full = try #require(c["expected_full_decode"] as? String)
            let prefixes = c["prefix_decodes_lossy"] as? [String]
            var streaming = IncrementalDetokenizer(tokenizer: tokenizer)
            var emitted = ""
            var chunks: [String] = []
            for (k, id) in ids.enumerated() {
                let chunk = streaming.feed(id)
                chunks.append(chunk)
                emitted += chunk
                if let prefixes {
                    // The lossy prefix decode ends in one U+FFFD exactly when it stops mid-character;
                    // streaming must hold those bytes back instead.
                    var expected = prefixes[k]
                    if streaming.hasPendingBytes {
                        #expect(expected.hasSuffix("\u{FFFD}"), "\(name) step \(k)")
                        expected.removeLast()
                    }
                    #expect(emitted == expected, "\(name) after \(k + 1) ids")
                }
            }
            let tail = streaming.finish()
            chunks.append(tail)
            #expect(emitted + tail == full, "\(name): streamed text equals the full decode")
            #expect(!streaming.hasPendingBytes)
            // Every chunk must be a whole number of characters: re-encoding it as UTF-8 and
            // decoding again must not change it, and valid inputs never produce U+FFFD.
            for chunk in chunks {
                #expect(String(decoding: Array(chunk.utf8), as: UTF8.self) == chunk)
                if !full.contains("\u{FFFD}") { #expect(!chunk.contains("\u{FFFD}"), "\(name) chunk \(chunk.debugDescription)") }
            }
        }
    }

    @Test func lossyDecodingReplacesEachMaximalInvalidSubpart() {
        func lossy(_ bytes: [UInt8]) -> String { LossyUTF8.decode(bytes, final: true).text }
        #expect(lossy([0x61, 0x80, 0x62]) == "a\u{FFFD}b")
        #expect(lossy([0x78, 0xED, 0xA0, 0x80, 0x79]) == "x\u{FFFD}\u{FFFD}\u{FFFD}y")
        #expect(lossy([0xC0, 0xAF, 0x7A]) == "\u{FFFD}\u{FFFD}z")
        #expect(lossy([0x6F, 0x6B, 0x20, 0xF0, 0x9F, 0xA4]) == "ok \u{FFFD}")
        #expect(lossy([0xF0, 0x9F, 0x41]) == "\u{FFFD}A")
        #expect(lossy([0xF4, 0x90, 0x80, 0x80]) == "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}")
        #expect(lossy(Array("héllo €😀".utf8)) == "héllo €😀")
        // Not final: a valid prefix is held back, a broken one is not.
        #expect(LossyUTF8.decode([0x61, 0xE2, 0x82], final: false) == ("a", 1))
        #expect(LossyUTF8.decode([0x61, 0xE2, 0x41], final: false) == ("a\u{FFFD}A", 3))
    }
}
