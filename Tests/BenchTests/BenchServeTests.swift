import Bench
import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `bench serve` against a real Shardline server over the tiny fixture model.
@Suite(.serialized) struct BenchServeTests {
    @Test func randomCompletionsMeasureEveryRequest() async throws {
        let report = try await withLiveServer { url in
            var c = tinyConfig(url, prompts: 6, input: 16, output: 8)
            c.maxConcurrency = 3
            return try await BenchRunner.run(c)
        }
        let run = try #require(report.runs.first)
        let m = run.metrics
        #expect(m.completed == 6 && m.failed == 0 && m.failures.isEmpty)
        #expect(m.totalOutputTokens == 6 * 8)
        #expect(report.exactPromptLengths)
        #expect(m.totalInputTokens == 6 * 16)
        #expect(m.peakConcurrency == 3)
        for r in run.results {
            #expect(r.success && r.usageReported && r.outputTokens == 8)
            // The dataset's length is what the server counted.
            #expect(r.promptTokens == 16 && r.serverPromptTokens == 16)
            #expect(r.ttft > 0 && r.ttft <= r.latency)
            #expect(!r.itl.isEmpty && r.itl.allSatisfy { $0 >= 0 })
            #expect(r.ttft + r.itl.reduce(0, +) <= r.latency + 1e-9)
            #expect(try #require(r.tpot) > 0)
        }
        for s in [m.ttft, m.tpot, m.itl, m.e2el] {
            #expect(s.count > 0)
            #expect(s.min <= s.median && s.median <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max)
            #expect(s.min <= s.mean && s.mean <= s.max)
        }
        #expect(m.ttft.median <= m.e2el.median)
        #expect(m.requestThroughput > 0 && m.outputThroughput > m.requestThroughput)
        #expect(abs(m.outputThroughput - Double(m.totalOutputTokens) / m.duration) < 1e-9)

        let summary = BenchReport.summary(run, config: report.config)
        #expect(summary.contains("Successful requests:                     6"))
        #expect(summary.contains("P99 TPOT (ms):"))
    }

    @Test func chatEndpointWithSharedPrefixes() async throws {
        let (report, prompts, sharedTokens) = try await withLiveServer { url in
            var c = tinyConfig(url, prompts: 4, input: 6, output: 5)
            c.endpoint = "/v1/chat/completions"
            c.dataset.kind = .sharedPrefix
            c.dataset.sharedPrefixLen = 12
            c.dataset.numPrefixes = 2
            let report = try await BenchRunner.run(c)
            // The dataset on its own: prompts 0 and 2 share prefix 0's tokens.
            let client = OpenAIClient(baseURL: url)
            let tokenizer = try #require(await RemoteTokenizer.probe(client))
            let prompts = try await DatasetBuilder.make(c.dataset, tokenizer: tokenizer).build()
            let a = try await tokenizer.tokenize(prompts[0].text), b = try await tokenizer.tokenize(prompts[2].text)
            let shared = zip(a, b).prefix { $0 == $1 }.count
            await client.shutdown()
            return (report, prompts, shared)
        }
        let m = try #require(report.runs.first).metrics
        #expect(m.completed == 4 && m.failed == 0)
        #expect(m.totalOutputTokens == 4 * 5)
        #expect(prompts.map(\.prefixIndex) == [0, 1, 0, 1])
        #expect(sharedTokens >= 12)
        // Prefix, space, suffix: about 12 + 6 tokens and the BOS.
        #expect(prompts.allSatisfy { $0.exactLength && abs($0.promptTokens - 19) <= 3 })
    }

    @Test func wrongModelIsReportedAsFailedRequests() async throws {
        let report = try await withLiveServer { url in
            var c = tinyConfig(url, prompts: 3)
            c.model = "no-such-model"
            return try await BenchRunner.run(c)
        }
        let m = try #require(report.runs.first).metrics
        #expect(m.completed == 0 && m.failed == 3)
        #expect(m.failures.count == 1)
        let failure = try #require(m.failures.first)
        #expect(failure.count == 3)
        #expect(failure.reason.hasPrefix("HTTP 404") && failure.reason.contains("does not exist"))
        #expect(m.totalOutputTokens == 0 && m.ttft.count == 0)
        let summary = BenchReport.summary(report.runs[0], config: report.config)
        #expect(summary.contains("3 × HTTP 404"))
    }

    @Test func unreachableServerIsOneClearError() async throws {
        let port = try closedPort()
        var c = tinyConfig("http://127.0.0.1:\(port)")
        let start = Date()
        let error = await #expect(throws: BenchError.self) { try await BenchRunner.run(c) }
        #expect(error?.description == "cannot reach the server at http://127.0.0.1:\(port): connection refused")
        #expect(Date().timeIntervalSince(start) < 20)
        c.baseURL = "localhost:8000"
        await #expect(throws: BenchError.self) { try await BenchRunner.run(c) }
    }

    @Test func arrivalsFollowTheRequestRate() async throws {
        let report = try await withLiveServer { url in
            var c = tinyConfig(url, prompts: 5, input: 8, output: 3)
            c.requestRate = 20
            c.burstiness = 1
            return try await BenchRunner.run(c)
        }
        let run = try #require(report.runs.first)
        let scheduled = ArrivalSchedule.offsets(count: 5, rate: 20, burstiness: 1, seed: 7)
        #expect(run.metrics.completed == 5)
        for (r, due) in zip(run.results, scheduled) {
            #expect(r.startOffset >= due - 0.002)
            #expect(r.startOffset < due + 2)
        }
        #expect(run.metrics.duration >= scheduled.last!)
    }

    @Test func shareGPTFileGivesPromptsAndReplyLengths() async throws {
        let file = try scratchFile("sharegpt.json", """
            [
              {"id": "a", "conversations": [{"from": "human", "value": "What is the capital of France?"},
                                            {"from": "gpt", "value": "The capital of France is Paris."}]},
              {"id": "b", "conversations": [{"from": "system", "value": "be brief"},
                                            {"from": "human", "value": "Name a river in England."},
                                            {"from": "gpt", "value": "The Thames."}]},
              {"id": "c", "conversations": [{"from": "gpt", "value": "no human turn: skipped"}]}
            ]
            """)
        struct Outcome: Sendable {
            var prompts: [BenchPrompt]
            var replyTokens: [Int]
            var report: BenchReport
        }
        let outcome = try await withLiveServer { url in
            var c = tinyConfig(url, prompts: 2)
            c.dataset.kind = .sharegpt
            c.dataset.path = file
            c.dataset.outputLen = nil
            let client = OpenAIClient(baseURL: url)
            let tokenizer = try #require(await RemoteTokenizer.probe(client))
            let prompts = try await DatasetBuilder.make(c.dataset, tokenizer: tokenizer).build()
            // Reply lengths without the BOS the tokenizer adds.
            let replies = [try await tokenizer.tokenize("The capital of France is Paris.").count - 1,
                           try await tokenizer.tokenize("The Thames.").count - 1]
            await client.shutdown()
            c.dataset.outputLen = 4
            c.dataset.numPrompts = 3  // more than the file has: reused
            return Outcome(prompts: prompts, replyTokens: replies, report: try await BenchRunner.run(c))
        }
        let byText = Dictionary(uniqueKeysWithValues: outcome.prompts.map { ($0.text, $0.outputTokens) })
        #expect(byText == ["What is the capital of France?": outcome.replyTokens[0], "Name a river in England.": outcome.replyTokens[1]])
        #expect(outcome.prompts.allSatisfy { $0.exactLength && $0.promptTokens > 5 })
        let m = try #require(outcome.report.runs.first).metrics
        #expect(m.completed == 3 && m.failed == 0 && m.totalOutputTokens == 12)
    }

    @Test func sweepGivesOneRowPerConcurrencyAChartAndJSON() async throws {
        let report = try await withLiveServer { url in
            var c = tinyConfig(url, prompts: 4, input: 8, output: 4)
            c.concurrencySweep = [1, 2, 4]
            c.warmup = 1
            c.goodput = GoodputSLO(limits: ["ttft": 60_000])
            return try await BenchRunner.run(c)
        }
        #expect(report.runs.map(\.maxConcurrency) == [1, 2, 4])
        #expect(report.runs.allSatisfy { $0.metrics.completed == 4 && $0.metrics.totalOutputTokens == 16 })
        #expect(report.runs.map(\.metrics.peakConcurrency) == [1, 2, 4])
        #expect(report.runs.allSatisfy { $0.metrics.goodRequests == 4 })

        let table = report.sweepTable.split(separator: "\n")
        #expect(table.count == 1 + 3 + 1)
        #expect(table[1].split(separator: " ").first == "1" && table[3].split(separator: " ").first == "4")

        let svg = SVGChart(report: report).render()
        #if canImport(FoundationXML)
        let doc = try XMLDocument(data: Data(svg.utf8))
        let root = try #require(doc.rootElement())
        #expect(root.name == "svg")
        #expect(try doc.nodes(forXPath: "//*[local-name()='polyline']").count == 3)
        #expect(try doc.nodes(forXPath: "//*[local-name()='circle']").count == 9)
        let texts = try doc.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
        #expect(texts.contains { $0.hasPrefix("Max concurrency") })
        #expect(texts.contains("TPOT (ms)") && texts.contains("Output throughput (tokens/s)"))
        #expect(texts.contains("p99 TPOT") && texts.contains("p50 TPOT"))
        #expect(["1", "2", "4"].allSatisfy { texts.contains($0) })
        #else
        #expect(svg.hasPrefix("<?xml") && svg.contains("<svg") && svg.hasSuffix("</svg>\n"))
        #endif

        let json = try #require(try JSONSerialization.jsonObject(with: try report.jsonData()) as? [String: Any])
        let runs = try #require(json["runs"] as? [[String: Any]])
        #expect(runs.count == 3)
        #expect(runs.map { $0["max_concurrency"] as? Int } == [1, 2, 4])
        #expect(runs.allSatisfy { ($0["completed"] as? Int) == 4 && $0["median_tpot_ms"] is Double && $0["p99_e2el_ms"] is Double })
        #expect((runs[0]["output_lens"] as? [Int]) == [4, 4, 4, 4])
        #expect(json["request_rate"] as? String == "inf")
    }
}
