import Engine

/// The sampling fields completions and chat share (OpenAI's and vLLM's extras, all at top
/// level). Decoded from the same body as the request, so each field is declared once.
struct SamplingFields: Decodable, Sendable {
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
    var priority: Int?

    /// The engine's parameters with `maxTokens` and validation applied.
    func params(maxTokens: Int) throws -> SamplingParams {
        var p = SamplingParams()
        p.maxTokens = maxTokens
        p.temperature = temperature ?? 1
        p.topP = top_p ?? 1
        p.topK = top_k ?? 0
        p.minP = min_p ?? 0
        p.n = n ?? 1
        p.stop = stop?.values ?? []
        p.stopTokenIds = stop_token_ids ?? []
        if let seed { p.seed = UInt64(bitPattern: Int64(seed)) }
        p.presencePenalty = presence_penalty ?? 0
        p.frequencyPenalty = frequency_penalty ?? 0
        p.repetitionPenalty = repetition_penalty ?? 1
        p.ignoreEOS = ignore_eos ?? false
        p.minTokens = min_tokens ?? 0
        p.includeStopStringInOutput = include_stop_str_in_output ?? false
        p.skipSpecialTokens = skip_special_tokens ?? true
        do { try p.validate() } catch { throw OpenAIError.badRequest(error.description) }
        return p
    }
}
