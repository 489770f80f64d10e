import Engine

/// The engine requests behind one HTTP request (one per prompt), merged into one stream of
/// `(prompt index, output)`. Ending the merged stream early (the client left) cancels the
/// per-prompt consumers, which aborts their engine requests.
struct GenerationRun: Sendable {
    let engine: EngineClient
    let prompts: [[Int]]
    let params: SamplingParams
    let priority: Int
    let idPrefix: String

    func outputs() -> AsyncThrowingStream<(Int, RequestOutput), any Error> {
        let (merged, continuation) = AsyncThrowingStream<(Int, RequestOutput), any Error>.makeStream()
        let streams = prompts.enumerated().map { i, prompt in
            (i, engine.generate(id: "\(idPrefix)-\(i)", promptTokenIds: prompt, params: params, priority: priority))
        }
        let task = Task {
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (i, stream) in streams {
                        group.addTask {
                            for try await output in stream { continuation.yield((i, output)) }
                        }
                    }
                    try await group.waitForAll()
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return merged
    }

    /// Runs to the end and returns each prompt's final output, in prompt order. Checks
    /// `clientConnected` at every output: once it is false, leaving the loop ends the merged
    /// stream, which aborts the engine requests (a client that timed out or gave up used to
    /// keep its whole generation running).
    func finalOutputs(while clientConnected: @Sendable () -> Bool = { true }) async throws -> [RequestOutput] {
        var last = [RequestOutput?](repeating: nil, count: prompts.count)
        for try await (i, output) in outputs() {
            guard clientConnected() else { throw CancellationError() }
            last[i] = output
        }
        return try last.map {
            guard let output = $0, output.finished else {
                throw OpenAIError(.internalServerError, "the engine ended a request without finishing it")
            }
            return output
        }
    }
}

/// The checks vLLM makes before a request reaches the engine, with its wording.
func checkContext(promptTokens: Int, maxTokens: Int?, maxModelLen: Int) throws {
    guard promptTokens > 0 else { throw OpenAIError.badRequest("the prompt is empty", param: "prompt") }
    // Saturating: a max_tokens near Int.max overflowed here and the trap took the server down.
    let (sum, overflow) = promptTokens.addingReportingOverflow(maxTokens ?? 0)
    let requested = overflow ? Int.max : sum
    guard promptTokens < maxModelLen, requested <= maxModelLen else {
        throw OpenAIError.badRequest(
            "This model's maximum context length is \(maxModelLen) tokens. However, you requested \(overflow ? "more than \(Int.max)" : "\(requested)") tokens " +
            "(\(promptTokens) in the messages, \(maxTokens ?? 0) in the completion). Please reduce the length of the messages or completion.")
    }
}

func checkTokenIds(_ ids: [Int], vocabSize: Int) throws {
    if let bad = ids.first(where: { $0 < 0 || $0 >= vocabSize }) {
        throw OpenAIError.badRequest("token id \(bad) is out of vocabulary (size \(vocabSize))", param: "prompt")
    }
}
