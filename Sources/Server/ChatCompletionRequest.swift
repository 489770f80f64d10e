import Engine

/// One chat message. Content is a string or a list of parts; text parts are joined with
/// newlines (as vLLM does for string-format templates); other part types are rejected.
struct ChatMessage: Decodable, Sendable {
    var role: String
    var content: String
    var name: String?

    enum CodingKeys: String, CodingKey { case role, content, name }

    struct Part: Decodable {
        var type: String
        var text: String?
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decode(String.self, forKey: .role)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        if try c.decodeNil(forKey: .content) {
            content = ""
        } else if let text = try? c.decode(String.self, forKey: .content) {
            content = text
        } else {
            let parts = try c.decode([Part].self, forKey: .content)
            content = try parts.map { part in
                guard part.type == "text" else {
                    throw OpenAIError.badRequest("content part type '\(part.type)' is not supported; only text", param: "messages")
                }
                guard let text = part.text else {
                    throw OpenAIError.badRequest("a content part of type 'text' needs a 'text' string", param: "messages")
                }
                return text
            }.joined(separator: "\n")
        }
    }
}

/// `POST /v1/chat/completions`; the sampling fields are decoded separately as `SamplingFields`.
struct ChatCompletionRequest: Decodable, Sendable {
    var model: String?
    var messages: [ChatMessage]
    var max_tokens: Int?
    var max_completion_tokens: Int?
    var stream: Bool?
    var stream_options: StreamOptions?
    var logprobs: Bool?
    var top_logprobs: Int?
    var add_generation_prompt: Bool?
    var continue_final_message: Bool?
    var user: String?

    /// `max_completion_tokens` wins over the deprecated `max_tokens`; absent both, the rest of
    /// the context window (vLLM's default for chat).
    func samplingParams(_ fields: SamplingFields, promptTokens: Int, maxModelLen: Int) throws -> SamplingParams {
        var p = try fields.params(maxTokens: max_completion_tokens ?? max_tokens ?? max(1, maxModelLen - promptTokens))
        if let top_logprobs, !(logprobs ?? false) {
            throw OpenAIError.badRequest("top_logprobs (\(top_logprobs)) requires logprobs to be true", param: "top_logprobs")
        }
        if logprobs ?? false { p.logprobs = top_logprobs ?? 0 }
        if let top = p.logprobs, top < 0 || top > 20 {
            throw OpenAIError.badRequest("top_logprobs must be in [0, 20], got \(top)", param: "top_logprobs")
        }
        return p
    }
}
