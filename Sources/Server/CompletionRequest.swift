import Engine

/// `POST /v1/completions`, with vLLM's extra sampling fields at top level.
struct CompletionRequest: Decodable, Sendable {
    var model: String?
    var prompt: PromptInput
    var suffix: String?
    var max_tokens: Int?
    var temperature: Float?
    var top_p: Float?
    var top_k: Int?
    var min_p: Float?
    var n: Int?
    var best_of: Int?
    var stream: Bool?
    var stream_options: StreamOptions?
    var logprobs: Int?
    var echo: Bool?
    var stop: StopStrings?
    var stop_token_ids: [Int]?
    var seed: Int?
    var presence_penalty: Float?
    var frequency_penalty: Float?
    var repetition_penalty: Float?
    var ignore_eos: Bool?
    var min_tokens: Int?
    var include_stop_str_in_output: Bool?
    var skip_special_tokens: Bool?
    var priority: Int?
    var user: String?

    /// The engine's parameters; OpenAI's default of 16 tokens when max_tokens is absent.
    func samplingParams() throws -> SamplingParams {
        if let suffix, !suffix.isEmpty {
            throw OpenAIError.badRequest("suffix is not supported", param: "suffix")
        }
        if let best_of, best_of != (n ?? 1) {
            throw OpenAIError.badRequest("best_of must equal n; beam-style best_of is not supported", param: "best_of")
        }
        var p = SamplingParams()
        p.maxTokens = max_tokens ?? 16
        try applyCommon(&p, SamplingFields(
            temperature: temperature, top_p: top_p, top_k: top_k, min_p: min_p, n: n, stop: stop,
            stop_token_ids: stop_token_ids, seed: seed, presence_penalty: presence_penalty,
            frequency_penalty: frequency_penalty, repetition_penalty: repetition_penalty, ignore_eos: ignore_eos,
            min_tokens: min_tokens, include_stop_str_in_output: include_stop_str_in_output,
            skip_special_tokens: skip_special_tokens))
        p.logprobs = logprobs
        return p
    }
}

/// The sampling fields completions and chat share.
struct SamplingFields {
    var temperature: Float?
    var top_p: Float?
    var top_k: Int?
    var min_p: Float?
    var n: Int?
    var stop: StopStrings?
    var stop_token_ids: [Int]?
    var seed: Int?
    var presence_penalty: Float?
    var frequency_penalty: Float?
    var repetition_penalty: Float?
    var ignore_eos: Bool?
    var min_tokens: Int?
    var include_stop_str_in_output: Bool?
    var skip_special_tokens: Bool?
}

func applyCommon(_ p: inout SamplingParams, _ f: SamplingFields) throws {
    p.temperature = f.temperature ?? 1
    p.topP = f.top_p ?? 1
    p.topK = f.top_k ?? 0
    p.minP = f.min_p ?? 0
    p.n = f.n ?? 1
    p.stop = f.stop?.values ?? []
    p.stopTokenIds = f.stop_token_ids ?? []
    if let seed = f.seed { p.seed = UInt64(bitPattern: Int64(seed)) }
    p.presencePenalty = f.presence_penalty ?? 0
    p.frequencyPenalty = f.frequency_penalty ?? 0
    p.repetitionPenalty = f.repetition_penalty ?? 1
    p.ignoreEOS = f.ignore_eos ?? false
    p.minTokens = f.min_tokens ?? 0
    p.includeStopStringInOutput = f.include_stop_str_in_output ?? false
    p.skipSpecialTokens = f.skip_special_tokens ?? true
    do { try p.validate() } catch { throw OpenAIError.badRequest(error.description) }
}
