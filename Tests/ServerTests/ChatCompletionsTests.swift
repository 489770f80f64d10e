import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Testing

@Suite struct ChatCompletionsTests {
    func server() throws -> OpenAIServer {
        try makeServer(chat: try ChatTemplateRenderer.load(override: Fixtures.path("tiny-llama/chat_template.jinja"), modelTemplate: nil, bosToken: "<s>", eosToken: "</s>"))
    }

    @Test func templateRendersChatMLAndTokenizeAgrees() async throws {
        let renderer = try #require(try ChatTemplateRenderer.load(override: Fixtures.path("tiny-llama/chat_template.jinja"), modelTemplate: nil, bosToken: "<s>", eosToken: "</s>"))
        let text = try renderer.render(messages: [("system", "Be brief."), ("user", "hi")], addGenerationPrompt: true, continueFinalMessage: false)
        #expect(text == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
        let app = Application(router: try server().router())
        try await app.test(.router) { client in
            let r = try await client.post("/tokenize", #"{"messages":[{"role":"user","content":"hi"}]}"#)
            #expect((r.json?["tokens"] as? [Int])?.first == 3)  // <|im_start|>, no BOS added by default
        }
    }

    @Test func chatCompletionAndItsStreamAgree() async throws {
        let app = Application(router: try server().router())
        try await app.test(.router) { client in
            let body = #"{"model":"tiny","messages":[{"role":"user","content":[{"type":"text","text":"The capital"},{"type":"text","text":"of France"}]}],"max_completion_tokens":10,"temperature":0"#
            let whole = try await client.post("/v1/chat/completions", body + "}")
            #expect(whole.status == 200)
            let choice = try #require((whole.json?["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant" && choice["finish_reason"] as? String == "length")
            let content = try #require(message["content"] as? String)
            #expect((whole.json?["usage"] as? [String: Int])?["completion_tokens"] == 10)
            #expect(whole.json?["object"] as? String == "chat.completion")

            let streamed = try await client.post("/v1/chat/completions", body + #","stream":true,"stream_options":{"include_usage":true}}"#)
            let (events, done) = parseEvents(streamed.text)
            #expect(done)
            let deltas = events.compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
            #expect(deltas.first?["role"] as? String == "assistant")
            #expect(deltas.compactMap { $0["content"] as? String }.joined() == content)
            #expect(events.allSatisfy { ($0["object"] as? String) == "chat.completion.chunk" })
            #expect((events.last?["usage"] as? [String: Int])?["completion_tokens"] == 10)
        }
    }

    @Test func logprobsInChatFormat() async throws {
        let app = Application(router: try server().router())
        try await app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions",
                #"{"messages":[{"role":"user","content":"hi"}],"max_tokens":3,"logprobs":true,"top_logprobs":2}"#)
            let content = try #require(((r.json?["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            #expect(content.count == 3)
            #expect((content[0]["top_logprobs"] as? [[String: Any]])?.count == 2)
            #expect(content[0]["logprob"] is Double && content[0]["bytes"] is [Int])
        }
    }

    @Test(arguments: [
        (#"{"messages":[]}"#, "messages must not be empty"),
        (#"{"messages":[{"role":"wizard","content":"x"}]}"#, "unknown message role"),
        (#"{"messages":[{"role":"user","content":"x"}],"top_logprobs":2}"#, "requires logprobs"),
        (#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#, "not supported"),
        (#"{"messages":[{"role":"user","content":"x"}],"max_tokens":100000}"#, "maximum context length"),
        (#"{"messages":"hi"}"#, "messages"),
        (#"{"messages":[{"role":"user","content":[{"type":"text"}]}]}"#, "needs a 'text' string"),
        (#"{"messages":[{"role":"user","content":"x"}],"n":129}"#, "n must be at most 128"),
        // Output constraints Shardline cannot honour are refused, not ignored.
        (#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}"#, "response_format 'json_object' is not supported"),
        (#"{"messages":[{"role":"user","content":"x"}],"guided_choice":["a","b"]}"#, "guided_choice (structured output)"),
        (#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]}"#, "tools (function calling)"),
        (#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}],"tool_choice":{"type":"function"}}"#, "tools (function calling)"),
    ])
    func badChatRequests(body: String, message: String) async throws {
        let app = Application(router: try server().router())
        try await app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions", body)
            #expect(r.status == 400, "\(r.text)")
            #expect(((r.json?["error"] as? [String: Any])?["message"] as? String)?.contains(message) == true, "\(r.text)")
        }
    }

    /// The harmless spellings of those fields still serve.
    @Test(arguments: [
        #"{"messages":[{"role":"user","content":"x"}],"max_tokens":1,"response_format":{"type":"text"}}"#,
        #"{"messages":[{"role":"user","content":"x"}],"max_tokens":1,"tools":[]}"#,
        #"{"messages":[{"role":"user","content":"x"}],"max_tokens":1,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"}"#,
    ])
    func harmlessOutputFieldsServe(body: String) async throws {
        let app = Application(router: try server().router())
        try await app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions", body)
            #expect(r.status == 200, "\(r.text)")
        }
    }
}
