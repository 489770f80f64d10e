import Engine
import Foundation
import Hummingbird

/// `POST /v1/completions`: one choice per prompt and sample, streamed or whole.
struct CompletionsRoute: Sendable {
    let server: OpenAIServer

    func handle(_ body: Data, clientConnected: @escaping @Sendable () -> Bool = { true }) async throws -> Response {
        let decoded = try RequestBodyDecoder.decode(RequestFields<CompletionRequest>.self, from: body)
        let req = decoded.route, fields = decoded.sampling
        try server.checkModel(req.model)
        try decoded.unsupported.get().check()
        let engine = server.engine
        let params = try req.samplingParams(fields)
        let prompts: [[Int]]
        switch req.prompt {
        case .texts(let texts): prompts = texts.map { engine.tokenizer.encode($0) }
        case .tokens(let lists): prompts = lists
        }
        guard !prompts.isEmpty else { throw OpenAIError.badRequest("prompt must not be an empty list", param: "prompt") }
        for p in prompts {
            try checkTokenIds(p, vocabSize: engine.vocabSize)
            try checkContext(promptTokens: p.count, maxTokens: params.maxTokens, maxModelLen: engine.maxModelLen)
        }
        let id = engine.makeRequestId(prefix: "cmpl")
        let run = GenerationRun(engine: engine, prompts: prompts, params: params, priority: fields.priority ?? 0, idPrefix: id)
        let echo = req.echo ?? false
        let model = server.config.servedModelName
        let created = OpenAIResponses.now
        if req.stream ?? false {
            let includeUsage = req.stream_options?.include_usage ?? false
            return server.eventStream { send in
                var finished = Set<Int>()
                var echoed = Set<Int>()
                var completionTokens = 0
                for try await (promptIndex, output) in run.outputs() {
                    var choices: [[String: Any]] = []
                    for sample in output.outputs {
                        let index = promptIndex * params.n + sample.index
                        guard !finished.contains(index) else { continue }
                        var text = sample.deltaText
                        if echo && echoed.insert(index).inserted { text = engine.tokenizer.decode(prompts[promptIndex]) + text }
                        completionTokens += sample.deltaTokenIds.count
                        // Tokens that end mid-character add no text yet: nothing to send.
                        guard !text.isEmpty || sample.finishReason != nil else { continue }
                        if sample.finishReason != nil { finished.insert(index) }
                        choices.append([
                            "index": index, "text": text,
                            "logprobs": params.logprobs == nil ? NSNull()
                                : OpenAIResponses.completionLogprobs(sample.deltaLogprobs, tokenizer: engine.tokenizer, textOffset: sample.text.count - sample.deltaText.count),
                            "finish_reason": OpenAIResponses.finish(sample), "stop_reason": OpenAIResponses.stopReason(sample),
                        ])
                    }
                    guard !choices.isEmpty else { continue }
                    try await send(["id": id, "object": "text_completion", "created": created, "model": model, "choices": choices])
                }
                if includeUsage {
                    let promptTokens = prompts.reduce(0) { $0 + $1.count }
                    try await send(["id": id, "object": "text_completion", "created": created, "model": model, "choices": [],
                                    "usage": OpenAIResponses.usage(prompt: promptTokens, completion: completionTokens)])
                }
            }
        }
        let outputs = try await run.finalOutputs(while: clientConnected)
        var choices: [[String: Any]] = []
        var completionTokens = 0
        for (promptIndex, output) in outputs.enumerated() {
            let prefix = echo ? engine.tokenizer.decode(prompts[promptIndex]) : ""
            for sample in output.outputs {
                completionTokens += sample.tokenIds.count
                choices.append([
                    "index": promptIndex * params.n + sample.index, "text": prefix + sample.text,
                    "logprobs": params.logprobs == nil ? NSNull()
                        : OpenAIResponses.completionLogprobs(sample.logprobs, tokenizer: engine.tokenizer, textOffset: prefix.count),
                    "finish_reason": OpenAIResponses.finish(sample), "stop_reason": OpenAIResponses.stopReason(sample),
                ])
            }
        }
        let promptTokens = prompts.reduce(0) { $0 + $1.count }
        return server.json(["id": id, "object": "text_completion", "created": created, "model": model, "choices": choices,
                            "usage": OpenAIResponses.usage(prompt: promptTokens, completion: completionTokens)])
    }
}
