import Engine

/// `POST /v1/completions`; the sampling fields are decoded separately as `SamplingFields`.
struct CompletionRequest: Decodable, Sendable {
    var model: String?
    var prompt: PromptInput
    var suffix: String?
    var max_tokens: Int?
    var best_of: Int?
    var n: Int?
    var stream: Bool?
    var stream_options: StreamOptions?
    var logprobs: Int?
    var echo: Bool?
    var user: String?

    /// The engine's parameters; OpenAI's default of 16 tokens when max_tokens is absent.
    func samplingParams(_ fields: SamplingFields) throws -> SamplingParams {
        if let suffix, !suffix.isEmpty {
            throw OpenAIError.badRequest("suffix is not supported", param: "suffix")
        }
        if let best_of, best_of != (n ?? 1) {
            throw OpenAIError.badRequest("best_of must equal n; beam-style best_of is not supported", param: "best_of")
        }
        var p = try fields.params(maxTokens: max_tokens ?? 16)
        p.logprobs = logprobs
        if let logprobs, logprobs < 0 || logprobs > 20 {
            throw OpenAIError.badRequest("logprobs must be in [0, 20], got \(logprobs)", param: "logprobs")
        }
        return p
    }
}
