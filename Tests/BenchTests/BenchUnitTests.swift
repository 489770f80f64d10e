@testable import Bench
import Foundation
import Testing

@Suite struct PercentileTests {
    @Test func matchNumpyLinearInterpolation() {
        // np.percentile([1, 2, 3, 4], [50, 90, 99]) == [2.5, 3.7, 3.97]
        let xs = [4.0, 1, 3, 2]
        let s = LatencyStats(seconds: xs.map { $0 / 1000 })
        #expect(abs(s.median - 2.5) < 1e-9 && abs(s.p90 - 3.7) < 1e-9 && abs(s.p99 - 3.97) < 1e-9)
        #expect(abs(s.mean - 2.5) < 1e-9 && abs(s.std - 1.118033988749895) < 1e-9)
        #expect(s.min == 1 && s.max == 4 && s.count == 4)
        #expect(LatencyStats(seconds: [0.005]).p99 == 5)
        #expect(LatencyStats(seconds: []) == LatencyStats())
    }

    @Test func tpotAndGoodput() throws {
        var fast = RequestResult()
        fast.success = true
        fast.ttft = 0.1
        fast.latency = 0.5
        fast.outputTokens = 5
        var slow = fast
        slow.ttft = 0.4
        slow.latency = 2.4
        var failed = RequestResult()
        failed.error = "HTTP 500: boom"
        #expect(abs(fast.tpot! - 0.1) < 1e-12 && abs(slow.tpot! - 0.5) < 1e-12)
        var one = fast
        one.outputTokens = 1
        #expect(one.tpot == nil)

        let slo = try GoodputSLO(parsing: ["ttft:200", "tpot:150"])
        #expect(slo.limits == ["ttft": 200, "tpot": 150])
        let m = BenchMetrics(results: [fast, slow, failed, failed], duration: 2, slo: slo)
        #expect(m.completed == 2 && m.failed == 2)
        #expect(m.goodRequests == 1 && m.requestGoodput == 0.5)
        #expect(m.failures.count == 1 && m.failures[0].reason == "HTTP 500: boom" && m.failures[0].count == 2)
        #expect(m.totalOutputTokens == 10 && m.outputThroughput == 5)
        #expect(BenchMetrics(results: [fast], duration: 1).requestGoodput == nil)
        for bad in ["ttft", "ttft:", "ttft:-1", "latency:5", "ttft:abc"] {
            #expect(throws: BenchError.self) { try GoodputSLO(parsing: [bad]) }
        }
    }
}

@Suite struct SSEParserTests {
    @Test func eventsSplitAcrossChunksAndLineEndings() {
        var p = SSEParser()
        let stream = "data: {\"a\":1}\n\n: a comment\r\ndata: {\"b\":\r\ndata: 2}\r\n\r\nevent: x\nid: 3\ndata: [DONE]\n\n"
        var events: [String] = []
        // Byte by byte: every split point must give the same events.
        for byte in Array(stream.utf8) { events += p.feed([byte]) }
        events += p.finish()
        #expect(events == ["{\"a\":1}", "{\"b\":\n2}", "[DONE]"])

        var whole = SSEParser()
        #expect(whole.feed(Array(stream.utf8)) == events)

        var unterminated = SSEParser()
        #expect(unterminated.feed(Array("data: tail".utf8)).isEmpty)
        #expect(unterminated.finish() == ["tail"])
    }
}

@Suite struct ArrivalTests {
    func gaps(rate: Double, burstiness: Double, seed: UInt64 = 3, n: Int = 4000) -> [Double] {
        let t = ArrivalSchedule.offsets(count: n, rate: rate, burstiness: burstiness, seed: seed)
        return zip(t.dropFirst(), t).map { $0 - $1 }
    }

    @Test func poissonAndGammaGaps() {
        #expect(ArrivalSchedule.offsets(count: 4, rate: .infinity, burstiness: 1, seed: 1) == [0, 0, 0, 0])
        for (burstiness, cv2) in [(1.0, 1.0), (0.5, 2.0), (4.0, 0.25)] {
            let g = gaps(rate: 10, burstiness: burstiness)
            let mean = g.reduce(0, +) / Double(g.count)
            let variance = g.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(g.count)
            #expect(abs(mean - 0.1) < 0.01, "mean gap \(mean) at burstiness \(burstiness)")
            // Gamma(k) gaps have squared coefficient of variation 1/k.
            #expect(abs(variance / (mean * mean) - cv2) < 0.2 * cv2, "CV² \(variance / (mean * mean)) at burstiness \(burstiness)")
            #expect(g.allSatisfy { $0 >= 0 })
        }
        #expect(gaps(rate: 5, burstiness: 1, seed: 9) == gaps(rate: 5, burstiness: 1, seed: 9))
        #expect(gaps(rate: 5, burstiness: 1, seed: 9) != gaps(rate: 5, burstiness: 1, seed: 10))
    }

    @Test func limiterNeverExceedsItsLimit() async {
        let limiter = ConcurrencyLimiter(limit: 3)
        let counter = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                await limiter.acquire()
                group.addTask {
                    await counter.enter()
                    try? await Task.sleep(for: .milliseconds(1))
                    await counter.leave()
                    await limiter.release()
                }
            }
        }
        #expect(await limiter.peak == 3)
        #expect(await counter.peak <= 3)
        #expect(await limiter.inFlight == 0)
    }

    actor Counter {
        var now = 0, peak = 0
        func enter() { now += 1; peak = max(peak, now) }
        func leave() { now -= 1 }
    }
}

/// A tokenizer that counts characters: lengths the tests can reason about.
struct CharTokenizer: PromptTokenizer {
    let detokenizes: Bool
    func tokenize(_ text: String) async throws -> [Int] { [1] + text.unicodeScalars.map { Int($0.value) } }
    func detokenize(_ ids: [Int]) async throws -> String? {
        detokenizes ? String(String.UnicodeScalarView(ids.compactMap(Unicode.Scalar.init))) : nil
    }
}

@Suite struct DatasetTests {
    @Test(arguments: [true, false])
    func randomPromptsHaveExactLengthsAndAreSeeded(detokenizes: Bool) async throws {
        var o = DatasetOptions()
        o.numPrompts = 5
        o.inputLen = 40
        o.outputLen = 7
        o.seed = 11
        let builder = try await DatasetBuilder.make(o, tokenizer: CharTokenizer(detokenizes: detokenizes))
        let a = try await builder.build(), b = try await builder.build()
        #expect(a == b)
        #expect(a.allSatisfy { $0.promptTokens == 40 && $0.outputTokens == 7 && $0.exactLength })
        for p in a { #expect(try await CharTokenizer(detokenizes: false).tokenize(p.text).count == 40) }
        #expect(Set(a.map(\.text)).count == 5)
        o.seed = 12
        #expect(try await DatasetBuilder.make(o, tokenizer: CharTokenizer(detokenizes: true)).build() != a)
    }

    @Test func rangeRatioSpreadsLengths() async throws {
        var o = DatasetOptions()
        o.numPrompts = 50
        o.inputLen = 20
        o.outputLen = 10
        o.rangeRatio = 0.5
        let prompts = try await DatasetBuilder.make(o, tokenizer: CharTokenizer(detokenizes: true)).build()
        #expect(prompts.allSatisfy { (10...30).contains($0.promptTokens) && (5...15).contains($0.outputTokens) })
        #expect(Set(prompts.map(\.promptTokens)).count > 5)
    }

    @Test func withoutATokenizerLengthsAreEstimates() async throws {
        var o = DatasetOptions()
        o.numPrompts = 2
        o.inputLen = 30
        let prompts = try await DatasetBuilder.make(o, tokenizer: nil).build()
        #expect(prompts.allSatisfy { !$0.exactLength && $0.promptTokens == 30 && $0.outputTokens == 128 })
        #expect(prompts.allSatisfy { $0.text.split(separator: " ").count == 30 })
    }

    @Test(arguments: [
        ("not json at all", "not valid JSON"),
        (#"{"conversations": []}"#, "expected a JSON list"),
        (#"[{"conversations": "hello"}]"#, "entry 0 has no \"conversations\" list"),
        (#"[{"conversations": [{"from": "human", "value": "hi"}]}, {"conversations": [{"from": "human"}]}]"#, "entry 1, turn 0"),
        (#"[{"conversations": [{"from": "gpt", "value": "only a reply"}]}]"#, "no conversation has a human turn"),
    ])
    func malformedShareGPTIsOneLineNamingTheFile(contents: String, message: String) async throws {
        let path = try scratchFile("bad.json", contents)
        var o = DatasetOptions()
        o.kind = .sharegpt
        o.path = path
        let error = await #expect(throws: BenchError.self) {
            _ = try await DatasetBuilder.make(o, tokenizer: nil).build()
        }
        let text = try #require(error?.description)
        #expect(text.hasPrefix(path + ": ") && text.contains(message) && !text.contains("\n"), "\(text)")
    }

    @Test func missingShareGPTFile() async throws {
        var o = DatasetOptions()
        o.kind = .sharegpt
        o.path = "/no/such/sharegpt.json"
        let error = await #expect(throws: BenchError.self) { _ = try await DatasetBuilder.make(o, tokenizer: nil).build() }
        #expect(error?.description == "/no/such/sharegpt.json: no such file")
        o.path = nil
        await #expect(throws: BenchError.self) { _ = try await DatasetBuilder.make(o, tokenizer: nil).build() }
    }

    @Test func settingsAreChecked() {
        var c = BenchConfig()
        c.dataset.numPrompts = 0
        #expect(throws: BenchError.self) { try c.validate() }
        c = BenchConfig()
        c.requestRate = 0
        #expect(throws: BenchError.self) { try c.validate() }
        c = BenchConfig()
        c.concurrencySweep = [1, 0]
        #expect(throws: BenchError.self) { try c.validate() }
        c = BenchConfig()
        c.dataset.rangeRatio = 1
        #expect(throws: BenchError.self) { try c.validate() }
        #expect(OpenAIAPI(endpoint: "/v1/chat/completions") == .chat && OpenAIAPI(endpoint: "/v1/completions") == .completions)
    }
}

@Suite struct ChartTests {
    @Test func axesScaleAndEscaping() throws {
        let chart = SVGChart(title: "a <b> & c", latencyName: "TPOT", points: [
            .init(concurrency: 16, throughput: 900, p50: 30, p99: 80),
            .init(concurrency: 1, throughput: 100, p50: 10, p99: 12),
            .init(concurrency: 4, throughput: 350, p50: 15, p99: 40),
        ])
        let svg = chart.render()
        #expect(svg.contains("a &lt;b&gt; &amp; c"))
        #expect(svg.contains("log scale"))
        #expect(SVGChart.niceCeiling(900) == 1000 && SVGChart.niceCeiling(0) == 1 && SVGChart.niceCeiling(37) == 40)
        #expect(SVGChart.ticks(upTo: 1000) == [0, 200, 400, 600, 800, 1000])
        // One point: no polyline, still a well-formed document.
        let single = SVGChart(title: "x", latencyName: "E2E latency", points: [.init(concurrency: 8, throughput: 1, p50: 2, p99: 3)]).render()
        #expect(!single.contains("<polyline") && single.contains("<circle"))
    }
}
