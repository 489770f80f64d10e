import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Testing

@Suite struct CompletionsTests {
    @Test func greedyCompletionMatchesTheFixtureAndCountsUsage() async throws {
        let app = Application(router: try makeServer().router())
        try await app.test(.router) { client in
            let r = try await client.post("/v1/completions", #"{"model":"tiny","prompt":"The capital of France is","max_tokens":8,"temperature":0}"#)
            #expect(r.status == 200)
            let choice = try #require((r.json?["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == "wwwheication\u{1b}\u{1b}\u{1b}")
            #expect(choice["finish_reason"] as? String == "length")
            #expect(r.json?["object"] as? String == "text_completion")
            let usage = r.json?["usage"] as? [String: Int]
            #expect(usage == ["prompt_tokens": 14, "completion_tokens": 8, "total_tokens": 22])
        }
    }

    @Test func promptsAsTokenIdsAndListsWithNSamplesEchoAndLogprobs() async throws {
        let app = Application(router: try makeServer().router())
        try await app.test(.router) { client in
            let ids = try await client.post("/v1/completions", #"{"prompt":[1,56,444],"max_tokens":3,"temperature":0,"echo":true}"#)
            let echoed = (ids.json?["choices"] as? [[String: Any]])?.first?["text"] as? String
            #expect(echoed?.hasPrefix("<s>The") == true)

            let many = try await client.post("/v1/completions", #"{"prompt":["a","b"],"n":2,"max_tokens":2,"temperature":1,"seed":3,"logprobs":2}"#)
            let choices = try #require(many.json?["choices"] as? [[String: Any]])
            #expect(choices.map { $0["index"] as? Int } == [0, 1, 2, 3])
            let logprobs = try #require(choices[0]["logprobs"] as? [String: Any])
            #expect((logprobs["tokens"] as? [String])?.count == 2)
            #expect((logprobs["top_logprobs"] as? [[String: Double]])?.first?.count == 2)
            #expect((many.json?["usage"] as? [String: Int])?["completion_tokens"] == 8)
        }
    }

    @Test func streamingChunksConcatenateToTheWholeText() async throws {
        let app = Application(router: try makeServer().router())
        try await app.test(.router) { client in
            let whole = try await client.post("/v1/completions", #"{"prompt":"The capital of France is","max_tokens":12,"temperature":0}"#)
            let text = (whole.json?["choices"] as? [[String: Any]])?.first?["text"] as? String
            let streamed = try await client.post("/v1/completions",
                #"{"prompt":"The capital of France is","max_tokens":12,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}"#)
            let (events, done) = parseEvents(streamed.text)
            #expect(done)
            let pieces = events.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }
            #expect(pieces.joined() == text && pieces.count > 1)
            let finishes = events.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
            #expect(finishes == ["length"])
            #expect((events.last?["usage"] as? [String: Int])?["completion_tokens"] == 12)
        }
    }

    @Test func stopStringEndsTheCompletion() async throws {
        let app = Application(router: try makeServer().router())
        try await app.test(.router) { client in
            let r = try await client.post("/v1/completions", #"{"prompt":"The capital of France is","max_tokens":12,"temperature":0,"stop":["ica"]}"#)
            let choice = try #require((r.json?["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == "wwwhe")
            #expect(choice["finish_reason"] as? String == "stop" && choice["stop_reason"] as? String == "ica")
        }
    }

    @Test(arguments: [
        (#"{"prompt":"x","suffix":"y"}"#, 400, "suffix"),
        (#"{"prompt":"x","max_tokens":5000}"#, 400, "maximum context length is 256"),
        // Each of these two took the whole server down (an overflow trap, an abort in malloc).
        (#"{"prompt":"x","max_tokens":9223372036854775807}"#, 400, "maximum context length is 256"),
        (#"{"prompt":"x","n":9223372036854775807}"#, 400, "n must be at most 128"),
        (#"{"prompt":"x","guided_json":{"type":"object"}}"#, 400, "guided_json (structured output) is not supported"),
        (#"{"prompt":"x","response_format":{"type":"json_schema","json_schema":{}}}"#, 400, "response_format 'json_schema'"),
        (#"{"prompt":"x","temperature":-1}"#, 400, "temperature"),
        (#"{"prompt":"x","top_p":0}"#, 400, "top_p"),
        (#"{"prompt":[1,99999]}"#, 400, "out of vocabulary"),
        (#"{"prompt":[]}"#, 400, "empty"),
        (#"{"prompt":{"a":1}}"#, 400, "prompt must be"),
        (#"{"max_tokens":3}"#, 400, "missing field 'prompt'"),
        (#"{"prompt":"x","model":"gpt-4"}"#, 404, "does not exist"),
        (#"{oops"#, 400, "not valid JSON"),
        (#"{"prompt":"x","max_tokens":2.5}"#, 400, "a number does not fit its field"),
        (#"{"prompt":"x","temperature":1e39}"#, 400, "a number does not fit its field"),
    ])
    func badRequestsGetOpenAIErrors(body: String, status: Int, message: String) async throws {
        let app = Application(router: try makeServer().router())
        try await app.test(.router) { client in
            let r = try await client.post("/v1/completions", body)
            #expect(r.status == status)
            let error = try #require(r.json?["error"] as? [String: Any], "\(r.text)")
            #expect((error["message"] as? String)?.contains(message) == true, "\(r.text)")
            #expect(error["code"] as? Int == status && error["type"] is String)
            // The engine still serves the next request.
            #expect(try await client.post("/v1/completions", #"{"prompt":"ok","max_tokens":1}"#).status == 200)
        }
    }
}
