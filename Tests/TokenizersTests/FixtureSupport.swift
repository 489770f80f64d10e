import Foundation
@testable import Tokenizers

/// Locates `../shared/fixtures` relative to the repository root (three levels above this file).
enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TokenizersTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repo root
        .appendingPathComponent("../shared/fixtures")
        .standardizedFileURL

    static func directory(_ name: String) -> URL { root.appendingPathComponent(name) }

    struct LoadFailure: Error, CustomStringConvertible { let description: String }

    static func json(_ relativePath: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent(relativePath))
        // Same BOM-safe parsing as the tokenizer (Linux JSONSerialization drops a leading U+FEFF).
        guard let object = try JSONObject.parse(data) as? [String: Any] else {
            throw LoadFailure(description: "\(relativePath) is not a JSON object")
        }
        return object
    }

    /// The 151k-vocabulary tokenizer is loaded once and shared by all tests.
    static let qwen: Result<BPETokenizer, LoadFailure> = {
        do { return .success(try BPETokenizer(directory: directory("qwen-tokenizer"))) }
        catch { return .failure(LoadFailure(description: "\(error)")) }
    }()

    static func ints(_ value: Any?) -> [Int] {
        (value as? [Any] ?? []).compactMap { JSONObject.asInt($0) }
    }
}

/// A throwaway directory for hand-written tokenizer files.
struct TempDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tokenizers-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ contents: String) throws {
        try contents.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
