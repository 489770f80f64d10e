import Engine
import Foundation
import Hummingbird

/// `POST /v1/chat/completions`: messages through the model's chat template, then generation.
struct ChatCompletionsRoute: Sendable {
    let server: OpenAIServer

    func handle(_ body: Data, clientConnected: @escaping @Sendable () -> Bool = { true }) async throws -> Response {
        let decoded = try RequestBodyDecoder.decode(RequestFields<ChatCompletionRequest>.self, from: body)
        let req = decoded.route, fields = decoded.sampling
        try server.checkModel(req.model)
        try decoded.unsupported.get().check()
        guard !req.messages.isEmpty else { throw OpenAIError.badRequest("messages must not be empty", param: "messages") }
        for m in req.messages where !["system", "user", "assistant", "tool", "developer"].contains(m.role) {
            throw OpenAIError.badRequest("unknown message role '\(m.role)'; expected system, user, assistant, tool or developer", param: "messages")
        }
        let engine = server.engine
        let promptText = try server.renderChat(req.messages, addGenerationPrompt: req.add_generation_prompt ?? true,
                                               continueFinalMessage: req.continue_final_message ?? false)
        let prompt = engine.tokenizer.encode(promptText, addSpecialTokens: false)
        let params = try req.samplingParams(fields, promptTokens: prompt.count, maxModelLen: engine.maxModelLen)
        try checkContext(promptTokens: prompt.count, maxTokens: params.maxTokens, maxModelLen: engine.maxModelLen)
        let id = engine.makeRequestId(prefix: "chatcmpl")
        let run = GenerationRun(engine: engine, prompts: [prompt], params: params, priority: fields.priority ?? 0, idPrefix: id)
        let model = server.config.servedModelName
        let created = OpenAIResponses.now
        let wantLogprobs = params.logprobs != nil
        if req.stream ?? false {
            let includeUsage = req.stream_options?.include_usage ?? false
            return server.eventStream { send in
                func chunk(_ choices: [[String: Any]]) -> [String: Any] {
                    ["id": id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": choices]
                }
                // The first chunk of every choice carries the role, as OpenAI's does.
                try await send(chunk((0..<params.n).map {
                    ["index": $0, "delta": ["role": "assistant", "content": ""], "logprobs": NSNull(), "finish_reason": NSNull()]
                }))
                var finished = Set<Int>()
                var completionTokens = 0
                for try await (_, output) in run.outputs() {
                    var choices: [[String: Any]] = []
                    for sample in output.outputs where !finished.contains(sample.index) {
                        completionTokens += sample.deltaTokenIds.count
                        // Tokens that end mid-character add no text yet: nothing to send.
                        guard !sample.deltaText.isEmpty || sample.finishReason != nil else { continue }
                        if sample.finishReason != nil { finished.insert(sample.index) }
                        let delta: [String: Any] = sample.deltaText.isEmpty ? [:] : ["content": sample.deltaText]
                        choices.append([
                            "index": sample.index, "delta": delta,
                            "logprobs": wantLogprobs ? OpenAIResponses.chatLogprobs(sample.deltaLogprobs, tokenizer: engine.tokenizer) : NSNull(),
                            "finish_reason": OpenAIResponses.finish(sample), "stop_reason": OpenAIResponses.stopReason(sample),
                        ])
                    }
                    if !choices.isEmpty { try await send(chunk(choices)) }
                }
                if includeUsage {
                    var last = chunk([])
                    last["usage"] = OpenAIResponses.usage(prompt: prompt.count, completion: completionTokens)
                    try await send(last)
                }
            }
        }
        let output = try await run.finalOutputs(while: clientConnected)[0]
        let choices: [[String: Any]] = output.outputs.map { sample in
            ["index": sample.index, "message": ["role": "assistant", "content": sample.text],
             "logprobs": wantLogprobs ? OpenAIResponses.chatLogprobs(sample.logprobs, tokenizer: engine.tokenizer) : NSNull(),
             "finish_reason": OpenAIResponses.finish(sample), "stop_reason": OpenAIResponses.stopReason(sample)]
        }
        return server.json(["id": id, "object": "chat.completion", "created": created, "model": model, "choices": choices,
                            "usage": OpenAIResponses.usage(prompt: prompt.count, completion: output.numGeneratedTokens)])
    }
}
