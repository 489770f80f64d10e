import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Testing

@Suite struct RoutesTests {
    @Test func modelsHealthVersionTokenize() async throws {
        let app = Application(router: try makeServer().router())
        try await app.test(.router) { client in
            let models = try await client.get("/v1/models")
            #expect(models.status == 200 && models.text.contains(#""id":"tiny""#) && models.text.contains(#""max_model_len":256"#))
            #expect(try await client.get("/health").status == 200)
            #expect(try await client.get("/version").text.contains(OpenAIServer.version))
            let tokens = try await client.post("/tokenize", #"{"prompt":"The capital of France is"}"#)
            #expect(tokens.json?["tokens"] as? [Int] == [1, 56, 444, 275, 69, 84, 286, 299, 278, 390, 86, 292, 318, 334])
            #expect(tokens.json?["count"] as? Int == 14)
            let text = try await client.post("/detokenize", #"{"tokens":[56,444,275,69,84,286,299,278,390,86,292,318,334]}"#)
            #expect(text.json?["prompt"] as? String == "The capital of France is")
            #expect(try await client.post("/detokenize", #"{"tokens":[-1]}"#).status == 400)
        }
    }

    @Test func apiKeyGuardsV1Only() async throws {
        let app = Application(router: try makeServer(apiKey: "sekrit").router())
        try await app.test(.router) { client in
            let denied = try await client.post("/v1/completions", #"{"prompt":"x","max_tokens":1}"#)
            #expect(denied.status == 401 && (denied.json?["error"] as? [String: Any]) != nil)
            let wrong = try await client.post("/v1/completions", #"{"prompt":"x","max_tokens":1}"#, headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == 401)
            let ok = try await client.post("/v1/completions", #"{"prompt":"x","max_tokens":1}"#, headers: [.authorization: "Bearer sekrit"])
            #expect(ok.status == 200)
            #expect(try await client.get("/health").status == 200)
        }
    }

    @Test func metricsUseVLLMNamesUnderTheShardlinePrefix() async throws {
        let app = Application(router: try makeServer().router())
        try await app.test(.router) { client in
            _ = try await client.post("/v1/completions", #"{"prompt":"The capital of France is","max_tokens":5,"temperature":0}"#)
            let text = try await client.get("/metrics").text
            for name in ["num_requests_running", "num_requests_waiting", "kv_cache_usage_perc", "num_preemptions_total",
                         "prefix_cache_queries_total", "prefix_cache_hits_total", "time_to_first_token_seconds_bucket",
                         "inter_token_latency_seconds_bucket", "e2e_request_latency_seconds_count", "request_queue_time_seconds_sum"] {
                #expect(text.contains("shardline:\(name){model_name=\"tiny\""), "\(name)")
            }
            #expect(text.contains(#"shardline:generation_tokens_total{model_name="tiny"} 5"#))
            #expect(text.contains(#"shardline:prompt_tokens_total{model_name="tiny"} 14"#))
            #expect(text.contains(#"shardline:request_success_total{model_name="tiny",finished_reason="length"} 1"#))
        }
    }

    /// A body past the limit is a 413 in OpenAI's error shape (it was a 500 naming a NIO type),
    /// and the server goes on serving.
    @Test func aBodyOverTheLimitIs413() async throws {
        let app = Application(router: try makeServer().router())
        try await app.test(.router) { client in
            let big = #"{"prompt":""# + String(repeating: "a", count: 64 << 20) + #"","max_tokens":1}"#
            let r = try await client.post("/v1/completions", big)
            #expect(r.status == 413 && r.text.contains("larger than the server's limit of 64 MiB"), "\(r.text.prefix(200))")
            #expect(try await client.post("/v1/completions", #"{"prompt":"ok","max_tokens":1}"#).status == 200)
        }
    }

    @Test func chatWithoutATemplateIsAClearError() async throws {
        let app = Application(router: try makeServer().router())
        try await app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(r.status == 400 && r.text.contains("chat template"))
        }
    }
}
