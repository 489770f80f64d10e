/// How one request samples and when it stops; the fields and defaults of vLLM's `SamplingParams`.
public struct SamplingParams: Sendable, Equatable, Codable {
    /// Number of independent samples for the prompt.
    public var n: Int = 1
    /// 0 is greedy.
    public var temperature: Float = 1
    public var topP: Float = 1
    /// 0 or -1: no top-k cut.
    public var topK: Int = 0
    public var minP: Float = 0
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    public var repetitionPenalty: Float = 1
    /// Reproducible sampling: the same seed gives the same tokens whatever else is batched.
    public var seed: UInt64?
    public var stop: [String] = []
    public var stopTokenIds: [Int] = []
    public var ignoreEOS: Bool = false
    public var maxTokens: Int? = 16
    public var minTokens: Int = 0
    /// Top-N log-probabilities to return per generated token (nil: none).
    public var logprobs: Int?
    public var includeStopStringInOutput: Bool = false
    public var skipSpecialTokens: Bool = true

    public init() {}

    public static var greedy: SamplingParams {
        var p = SamplingParams()
        p.temperature = 0
        return p
    }

    public var isGreedy: Bool { temperature < 1e-5 }

    /// The most parallel samples one request may ask for: OpenAI's limit. Requests hold
    /// per-sample arrays of n, and n = Int.max made the server abort in malloc.
    public static let maxN = 128

    /// Checks ranges the way vLLM does; the message names the field.
    public func validate() throws(EngineError) {
        func bad(_ message: String) -> EngineError { .invalidRequest(message) }
        guard n >= 1 else { throw bad("n must be at least 1, got \(n)") }
        guard n <= Self.maxN else { throw bad("n must be at most \(Self.maxN), got \(n)") }
        guard temperature >= 0, temperature.isFinite else { throw bad("temperature must be non-negative, got \(temperature)") }
        guard topP > 0, topP <= 1 else { throw bad("top_p must be in (0, 1], got \(topP)") }
        guard topK >= -1 else { throw bad("top_k must be -1 (disable), 0 or at least 1, got \(topK)") }
        guard minP >= 0, minP <= 1 else { throw bad("min_p must be in [0, 1], got \(minP)") }
        guard presencePenalty >= -2, presencePenalty <= 2 else { throw bad("presence_penalty must be in [-2, 2], got \(presencePenalty)") }
        guard frequencyPenalty >= -2, frequencyPenalty <= 2 else { throw bad("frequency_penalty must be in [-2, 2], got \(frequencyPenalty)") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else { throw bad("repetition_penalty must be greater than zero, got \(repetitionPenalty)") }
        if let maxTokens, maxTokens < 1 { throw bad("max_tokens must be at least 1, got \(maxTokens)") }
        guard minTokens >= 0 else { throw bad("min_tokens must be non-negative, got \(minTokens)") }
        if let maxTokens, minTokens > maxTokens { throw bad("min_tokens (\(minTokens)) must be less than or equal to max_tokens (\(maxTokens))") }
        if let logprobs, logprobs < 0 || logprobs > 20 { throw bad("logprobs must be in [0, 20], got \(logprobs)") }
        guard stopTokenIds.allSatisfy({ $0 >= 0 }) else { throw bad("stop_token_ids must be non-negative") }
        guard stop.allSatisfy({ !$0.isEmpty }) else { throw bad("stop strings must not be empty") }
    }
}

public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// The request itself is wrong (HTTP 400).
    case invalidRequest(String)
    /// The engine cannot run (bad configuration, too little memory); the message says which flag.
    case configuration(String)
    /// The executor failed; in-flight requests cannot finish.
    case executionFailed(String)

    public var description: String {
        switch self {
        case .invalidRequest(let m), .configuration(let m), .executionFailed(let m): return m
        }
    }
}
