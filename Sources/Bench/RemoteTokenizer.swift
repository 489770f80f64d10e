import Foundation

/// Counting a prompt's tokens as the server will: the datasets use it to make prompts of an
/// exact length.
public protocol PromptTokenizer: Sendable {
    /// Token ids of `text` as the server's completions route would see it (special tokens included).
    func tokenize(_ text: String) async throws -> [Int]
    /// Text for `ids`, or nil when the server cannot detokenize.
    func detokenize(_ ids: [Int]) async throws -> String?
}

/// The server's own `/tokenize` and `/detokenize` (vLLM's and Shardline's shape, and
/// llama.cpp's `content` spelling), found by asking once.
public struct RemoteTokenizer: PromptTokenizer {
    let client: OpenAIClient
    public let canDetokenize: Bool

    /// nil when the server has no usable `/tokenize`.
    public static func probe(_ client: OpenAIClient) async -> RemoteTokenizer? {
        let probe = RemoteTokenizer(client: client, canDetokenize: false)
        guard let ids = try? await probe.tokenize("Hello world"), !ids.isEmpty else { return nil }
        let withDetok = RemoteTokenizer(client: client, canDetokenize: true)
        let text = try? await withDetok.detokenize(ids)
        return RemoteTokenizer(client: client, canDetokenize: text != nil)
    }

    public func tokenize(_ text: String) async throws -> [Int] {
        // `content` and `add_special` are llama.cpp's spellings (it adds no BOS unless asked).
        let (status, body) = try await client.send(
            "/tokenize", json: ["prompt": text, "content": text, "add_special_tokens": true, "add_special": true])
        guard status == 200, let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let tokens = json["tokens"] as? [Int] else {
            throw BenchError("\(client.url("/tokenize")): HTTP \(status): \(OpenAIClient.errorMessage(body))")
        }
        return tokens
    }

    public func detokenize(_ ids: [Int]) async throws -> String? {
        guard canDetokenize else { return nil }
        let (status, body) = try await client.send("/detokenize", json: ["tokens": ids])
        guard status == 200, let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        return json["prompt"] as? String ?? json["content"] as? String
    }
}
