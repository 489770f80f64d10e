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
                guard part.type == "text", let text = part.text else {
                    throw OpenAIError.badRequest("content part type '\(part.type)' is not supported; only text", param: "messages")
                }
                return text
            }.joined(separator: "\n")
        }
    }
}

/// `POST /v1/chat/completions`.
struct ChatCompletionRequest: Decodable, Sendable {
    var model: String?
    var messages: [ChatMessage]
    var max_tokens: Int?
    var max_completion_tokens: Int?
    var temperature: Float?
    var top_p: Float?
    var top_k: Int?
    var min_p: Float?
    var n: Int?
    var stream: Bool?
    var stream_options: StreamOptions?
    var stop: StopStrings?
    var stop_token_ids: [Int]?
    var seed: Int?
    var presence_penalty: Float?
    var frequency_penalty: Float?
    var repetition_penalty: Float?
    var ignore_eos: Bool?
    var min_tokens: Int?
    var logprobs: Bool?
    var top_logprobs: Int?
    var add_generation_prompt: Bool?
    var continue_final_message: Bool?
    var echo: Bool?
    var include_stop_str_in_output: Bool?
    var skip_special_tokens: Bool?
    var priority: Int?
    var user: String?

    /// `max_completion_tokens` wins over the deprecated `max_tokens`; absent both, the rest of
    /// the context window (vLLM's default for chat).
    func samplingParams(promptTokens: Int, maxModelLen: Int) throws -> SamplingParams {
        var p = SamplingParams()
        p.maxTokens = max_completion_tokens ?? max_tokens ?? max(1, maxModelLen - promptTokens)
        try applyCommon(&p, SamplingFields(
            temperature: temperature, top_p: top_p, top_k: top_k, min_p: min_p, n: n, stop: stop,
            stop_token_ids: stop_token_ids, seed: seed, presence_penalty: presence_penalty,
            frequency_penalty: frequency_penalty, repetition_penalty: repetition_penalty, ignore_eos: ignore_eos,
            min_tokens: min_tokens, include_stop_str_in_output: include_stop_str_in_output,
            skip_special_tokens: skip_special_tokens))
        if let top_logprobs, !(logprobs ?? false) {
            throw OpenAIError.badRequest("top_logprobs (\(top_logprobs)) requires logprobs to be true", param: "top_logprobs")
        }
        if logprobs ?? false { p.logprobs = top_logprobs ?? 0 }
        if let top = p.logprobs, top > 20 {
            throw OpenAIError.badRequest("top_logprobs must be at most 20, got \(top)", param: "top_logprobs")
        }
        return p
    }
}
