import Engine
import Foundation
import Tokenizers

/// OpenAI response bodies, built as JSON objects so absent values are explicit `null`s, as
/// OpenAI and vLLM send them.
enum OpenAIResponses {
    static func json(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    static func usage(prompt: Int, completion: Int) -> [String: Any] {
        ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion]
    }

    static func finish(_ output: CompletionOutput) -> Any { output.finishReason?.rawValue ?? NSNull() }

    static func stopReason(_ output: CompletionOutput) -> Any {
        switch output.stopReason {
        case .string(let s): return s
        case .tokenId(let id): return id
        case nil: return NSNull()
        }
    }

    /// A logprob as JSON. JSONSerialization cannot write -inf or NaN, and one in a body lost the
    /// whole body (`{}`): -inf (a token the logits rule out) is written as vLLM writes it, -9999.0;
    /// NaN (NaN logits, e.g. from NaN weights in a model file) as null.
    static func logprob(_ value: Float?) -> Any {
        guard let value, !value.isNaN, value != .infinity else { return NSNull() }
        return Double(max(value, -9999))
    }

    /// Completions logprobs: parallel lists of tokens, their logprobs, top alternatives and
    /// character offsets into the choice's text.
    static func completionLogprobs(_ tokens: [SampledToken], tokenizer: any Tokenizer, textOffset: Int) -> Any {
        guard !tokens.isEmpty else { return NSNull() }
        var offsets: [Int] = [], texts: [String] = [], values: [Any] = [], tops: [Any] = []
        var offset = textOffset
        for t in tokens {
            let text = tokenizer.decode([t.tokenId])
            offsets.append(offset)
            offset += text.count
            texts.append(text)
            values.append(logprob(t.logprob))
            var top: [String: Any] = [:]
            for alt in t.topLogprobs { top[tokenizer.decode([alt.tokenId])] = logprob(alt.logprob) }
            tops.append(top)
        }
        return ["text_offset": offsets, "token_logprobs": values, "tokens": texts, "top_logprobs": tops]
    }

    /// Chat logprobs: one entry per token with its bytes and top alternatives.
    static func chatLogprobs(_ tokens: [SampledToken], tokenizer: any Tokenizer) -> Any {
        guard !tokens.isEmpty else { return NSNull() }
        func entry(_ id: Int, _ logprob: Float?) -> [String: Any] {
            let text = tokenizer.decode([id])
            return ["token": text, "logprob": Self.logprob(logprob), "bytes": Array(text.utf8).map { Int($0) }]
        }
        return ["content": tokens.map { t -> [String: Any] in
            var e = entry(t.tokenId, t.logprob)
            e["top_logprobs"] = t.topLogprobs.map { entry($0.tokenId, $0.logprob) }
            return e
        }]
    }

    static var now: Int { Int(Date().timeIntervalSince1970) }
}

/// Server-sent events framing: `data: <json>\n\n`, ending with `data: [DONE]`.
enum ServerSentEvents {
    static func event(_ object: Any) -> Data {
        var d = Data("data: ".utf8)
        d.append(OpenAIResponses.json(object))
        d.append(Data("\n\n".utf8))
        return d
    }

    static let done = Data("data: [DONE]\n\n".utf8)
}
