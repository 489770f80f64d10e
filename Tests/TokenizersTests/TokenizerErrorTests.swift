import Foundation
import Testing
@testable import Tokenizers

/// Bad input must become a one-line `TokenizerError` naming the file, never a crash.
@Suite struct TokenizerErrorTests {
    static let minimalModel = #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#

    func load(_ tokenizerJSON: String, config: String? = nil) throws -> (Result<BPETokenizer, TokenizerError>, TempDirectory) {
        let dir = try TempDirectory()
        try dir.write("tokenizer.json", tokenizerJSON)
        if let config { try dir.write("tokenizer_config.json", config) }
        do { return (.success(try BPETokenizer(directory: dir.url)), dir) }
        catch let error as TokenizerError { return (.failure(error), dir) }
    }

    func expectError(_ tokenizerJSON: String, config: String? = nil, mentions words: [String]) throws {
        let (result, dir) = try load(tokenizerJSON, config: config)
        defer { dir.remove() }
        guard case .failure(let error) = result else {
            Issue.record("expected an error for \(tokenizerJSON)")
            return
        }
        let message = error.description
        #expect(!message.contains("\n"), "one line: \(message)")
        for word in words { #expect(message.contains(word), "\(message.debugDescription) should mention \(word)") }
    }

    @Test func wordPieceModelIsRejectedByName() throws {
        try expectError(#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}, "unk_token": "[UNK]"}}"#,
                        mentions: ["tokenizer.json", "WordPiece", "BPE"])
        try expectError(#"{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}"#,
                        mentions: ["tokenizer.json", "Unigram", "BPE"])
    }

    @Test func malformedJSONIsReported() throws {
        try expectError(#"{"model": {"type": "BPE", "vocab": {"a": 0}"#, mentions: ["tokenizer.json", "malformed JSON"])
        try expectError("[1, 2, 3]", mentions: ["tokenizer.json", "not a JSON object"])
        try expectError("", mentions: ["tokenizer.json"])
    }

    @Test func missingPiecesAreReported() throws {
        try expectError(#"{"normalizer": null}"#, mentions: ["tokenizer.json", "model"])
        try expectError(#"{"model": {"type": "BPE", "merges": []}}"#, mentions: ["tokenizer.json", "model.vocab"])
        try expectError(#"{"model": {"type": "BPE", "vocab": {"a": "zero"}}}"#, mentions: ["tokenizer.json", "vocab"])
        try expectError(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}"#,
                        mentions: ["tokenizer.json", "merges[0]"])
        try expectError(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [42]}}"#,
                        mentions: ["tokenizer.json", "merges[0]"])
    }

    @Test func unsupportedComponentsAreNamed() throws {
        try expectError(#"{"normalizer": {"type": "BertNormalizer"}, "model": \#(Self.minimalModel)}"#,
                        mentions: ["tokenizer.json", "normalizer", "BertNormalizer", "NFC"])
        try expectError(#"{"pre_tokenizer": {"type": "Metaspace"}, "model": \#(Self.minimalModel)}"#,
                        mentions: ["tokenizer.json", "pre_tokenizer", "Metaspace"])
        try expectError(#"{"decoder": {"type": "WordPiece"}, "model": \#(Self.minimalModel)}"#,
                        mentions: ["tokenizer.json", "decoder", "WordPiece"])
        try expectError(#"{"post_processor": {"type": "Mystery"}, "model": \#(Self.minimalModel)}"#,
                        mentions: ["tokenizer.json", "post_processor", "Mystery"])
        try expectError(#"{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated", "invert": false}, "model": \#(Self.minimalModel)}"#,
                        mentions: ["tokenizer.json", "regex"])
    }

    @Test func badConfigFileIsNamed() throws {
        try expectError(#"{"model": \#(Self.minimalModel)}"#, config: "{oops", mentions: ["tokenizer_config.json", "malformed"])
        try expectError(#"{"model": \#(Self.minimalModel)}"#, config: #"{"bos_token": 5}"#,
                        mentions: ["tokenizer_config.json", "bos_token"])
    }

    @Test func missingDirectoryOrFileIsReported() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/shardline-\(UUID().uuidString)")
        #expect(throws: TokenizerError.fileNotFound(path: missing.path)) { try BPETokenizer(directory: missing) }
        let empty = try TempDirectory()
        defer { empty.remove() }
        do {
            _ = try BPETokenizer(directory: empty.url)
            Issue.record("expected an error for a directory without tokenizer.json")
        } catch let error as TokenizerError {
            #expect(error.description.contains("tokenizer.json"))
        }
    }
}
