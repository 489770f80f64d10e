import Bench
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A scripted server: how the client copes with streams a real engine rarely sends. The model
/// name picks the script; there is no /tokenize or /v1/models.
@Suite struct StreamEdgeCaseTests {
    static func chunk(_ text: String) -> String {
        #"data: {"choices":[{"index":0,"text":"\#(text)","finish_reason":null}]}"# + "\n\n"
    }

    func withScriptedServer<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("v1/completions") { request, _ -> Response in
            let data = try await request.body.collect(upTo: 1 << 20)
            let json = try JSONSerialization.jsonObject(with: Data(buffer: data)) as? [String: Any]
            let sse: HTTPFields = [.contentType: "text/event-stream"]
            switch json?["model"] as? String {
            case "no-usage":
                return Response(status: .ok, headers: sse, body: .init(byteBuffer: ByteBuffer(string:
                    Self.chunk("a") + Self.chunk("") + Self.chunk("b") + Self.chunk("c") + "data: [DONE]\n\n")))
            case "error-event":
                return Response(status: .ok, headers: sse, body: .init(byteBuffer: ByteBuffer(string:
                    Self.chunk("a") + #"data: {"error":{"message":"the engine is not running","code":503}}"# + "\n\ndata: [DONE]\n\n")))
            case "no-done":
                return Response(status: .ok, headers: sse, body: .init(byteBuffer: ByteBuffer(string: Self.chunk("a") + Self.chunk("b"))))
            case "paced":
                // Three tokens 40 ms apart, the first after 40 ms, then usage.
                return Response(status: .ok, headers: sse, body: .init { writer in
                    for piece in ["x", "y", "z"] {
                        try await Task.sleep(for: .milliseconds(40))
                        try await writer.write(ByteBuffer(string: Self.chunk(piece)))
                    }
                    try await writer.write(ByteBuffer(string: #"data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3}}"# + "\n\ndata: [DONE]\n\n"))
                    try await writer.finish(nil)
                })
            default:
                return Response(status: .internalServerError, headers: [.contentType: "text/html"],
                                body: .init(byteBuffer: ByteBuffer(string: "<html>\n<b>oops</b>\n</html>")))
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(try #require(client.port))")
        }
    }

    func run(_ model: String) async throws -> BenchReport {
        try await withScriptedServer { url in
            var c = tinyConfig(url, prompts: 2, input: 5, output: 3)
            c.model = model
            return try await BenchRunner.run(c)
        }
    }

    @Test func withoutUsageOutputTokensAreChunksCarryingText() async throws {
        let report = try await run("no-usage")
        #expect(!report.exactPromptLengths)
        let run = try #require(report.runs.first)
        #expect(run.metrics.completed == 2 && run.metrics.totalOutputTokens == 6)
        #expect(run.results.allSatisfy { !$0.usageReported && $0.outputTokens == 3 && $0.itl.count == 2 })
    }

    @Test(arguments: [
        ("error-event", "error event: the engine is not running"),
        ("no-done", "the stream ended without [DONE]"),
        ("html", "HTTP 500: <html> <b>oops</b> </html>"),
    ])
    func brokenStreamsAreFailuresWithTheirReason(model: String, reason: String) async throws {
        let m = try #require(try await run(model).runs.first).metrics
        #expect(m.completed == 0 && m.failed == 2)
        #expect(m.failures.map(\.reason) == [reason] && m.failures.first?.count == 2)
    }

    @Test func timingsFollowTheServersPace() async throws {
        let run = try #require(try await run("paced").runs.first)
        #expect(run.metrics.completed == 2 && run.metrics.totalOutputTokens == 6)
        for r in run.results {
            #expect(r.usageReported && r.serverPromptTokens == 5)
            // The server sends token k no earlier than 40(k+1) ms after the request, so token k
            // arrives no earlier either. A single gap can be shorter (a client descheduled under
            // load reads two tokens at once), so the bounds are on arrival times, not on gaps.
            #expect(r.ttft >= 0.035 && r.ttft < 5)
            #expect(r.itl.count == 2 && r.itl.allSatisfy { $0 >= 0 && $0 < 5 })
            #expect(r.ttft + (r.itl.first ?? 0) >= 0.075)
            #expect(r.ttft + r.itl.reduce(0, +) >= 0.115)
            #expect(r.latency >= r.ttft + r.itl.reduce(0, +))
        }
    }
}
