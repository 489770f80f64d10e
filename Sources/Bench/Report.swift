import Foundation

extension BenchReport {
    /// vLLM's result block for one run.
    public static func summary(_ run: BenchRun, config: BenchConfig) -> String {
        let m = run.metrics
        var lines: [String] = []
        func row(_ name: String, _ value: String) { lines.append(name.padding(toLength: 40, withPad: " ", startingAt: 0) + " " + value) }
        func f(_ x: Double) -> String { String(format: "%.2f", x) }
        func rule(_ title: String) {
            let pad = max(0, 50 - title.count)
            lines.append(String(repeating: "-", count: pad / 2) + title + String(repeating: "-", count: pad - pad / 2))
        }
        lines.append("============ Serving Benchmark Result ============")
        row("Successful requests:", "\(m.completed)")
        row("Failed requests:", "\(m.failed)")
        for (reason, count) in m.failures { lines.append("  \(count) × \(reason)") }
        row("Maximum request concurrency:", run.maxConcurrency.map(String.init) ?? "unlimited")
        row("Peak requests in flight:", "\(m.peakConcurrency)")
        row("Request rate (req/s):", config.requestRate.isFinite ? f(config.requestRate) : "inf")
        row("Benchmark duration (s):", f(m.duration))
        row("Total input tokens:", "\(m.totalInputTokens)")
        row("Total generated tokens:", "\(m.totalOutputTokens)")
        row("Request throughput (req/s):", f(m.requestThroughput))
        if let g = m.requestGoodput { row("Request goodput (req/s):", f(g)) }
        row("Output token throughput (tok/s):", f(m.outputThroughput))
        row("Total token throughput (tok/s):", f(m.totalTokenThroughput))
        for (title, short, s) in [("Time to First Token", "TTFT", m.ttft),
                                  ("Time per Output Token (excl. 1st token)", "TPOT", m.tpot),
                                  ("Inter-token Latency", "ITL", m.itl),
                                  ("End-to-end Latency", "E2EL", m.e2el)] {
            rule(title)
            row("Mean \(short) (ms):", f(s.mean))
            row("Median \(short) (ms):", f(s.median))
            row("P90 \(short) (ms):", f(s.p90))
            row("P99 \(short) (ms):", f(s.p99))
        }
        lines.append(String(repeating: "=", count: 50))
        return lines.joined(separator: "\n")
    }

    /// One row per concurrency.
    public var sweepTable: String {
        let header = ["concurrency", "ok", "failed", "req/s", "out tok/s", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99",
                      "ITL p50", "E2EL p50", "E2EL p99"]
        var rows = [header]
        for run in runs {
            let m = run.metrics
            rows.append([run.maxConcurrency.map(String.init) ?? "inf", "\(m.completed)", "\(m.failed)",
                         String(format: "%.2f", m.requestThroughput), String(format: "%.1f", m.outputThroughput)]
                        + [m.ttft.median, m.ttft.p99, m.tpot.median, m.tpot.p99, m.itl.median, m.e2el.median, m.e2el.p99]
                            .map { String(format: "%.1f", $0) })
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        let text = rows.map { row in
            row.enumerated().map { c, cell in String(repeating: " ", count: widths[c] - cell.count) + cell }.joined(separator: "  ")
        }
        return (text + ["(latencies in ms)"]).joined(separator: "\n")
    }

    /// Every setting and metric, and per-request detail, as a JSON object (vLLM's key names
    /// where it has them). A sweep is `{"runs": [...]}` around one object per concurrency.
    public var jsonObject: [String: Any] {
        var settings: [String: Any] = [
            "date": ISO8601DateFormatter().string(from: date),
            "backend": "openai", "base_url": config.baseURL, "endpoint": config.endpoint, "model_id": model,
            "dataset_name": config.dataset.kind.rawValue, "num_prompts": config.dataset.numPrompts,
            "request_rate": config.requestRate.isFinite ? config.requestRate as Any : "inf",
            "burstiness": config.burstiness, "seed": Int(truncatingIfNeeded: config.dataset.seed),
            "warmup": config.warmup, "exact_prompt_lengths": exactPromptLengths,
            "input_len": config.dataset.inputLen, "range_ratio": config.dataset.rangeRatio,
        ]
        if let path = config.dataset.path { settings["dataset_path"] = path }
        if let out = config.dataset.outputLen { settings["output_len"] = out }
        if config.dataset.kind == .sharedPrefix {
            settings["shared_prefix_len"] = config.dataset.sharedPrefixLen
            settings["num_prefixes"] = config.dataset.numPrefixes
        }
        if !config.goodput.limits.isEmpty { settings["goodput"] = config.goodput.limits }
        let runObjects = runs.map { Self.json($0) }
        if config.concurrencySweep.isEmpty, let only = runObjects.first {
            return settings.merging(only) { _, run in run }
        }
        settings["concurrency_sweep"] = config.concurrencySweep
        settings["runs"] = runObjects
        return settings
    }

    static func json(_ run: BenchRun) -> [String: Any] {
        let m = run.metrics
        var o: [String: Any] = [
            "max_concurrency": run.maxConcurrency.map { $0 as Any } ?? NSNull(),
            "peak_concurrency": m.peakConcurrency,
            "duration": m.duration, "completed": m.completed, "failed": m.failed,
            "errors": Dictionary(uniqueKeysWithValues: m.failures.map { ($0.reason, $0.count) }),
            "total_input_tokens": m.totalInputTokens, "total_output_tokens": m.totalOutputTokens,
            "request_throughput": m.requestThroughput, "output_throughput": m.outputThroughput,
            "total_token_throughput": m.totalTokenThroughput,
            "input_lens": run.results.map { $0.serverPromptTokens ?? $0.promptTokens },
            "dataset_input_lens": run.results.map(\.promptTokens),
            "output_lens": run.results.map(\.outputTokens),
            "ttfts": run.results.map(\.ttft), "itls": run.results.map(\.itl), "e2els": run.results.map(\.latency),
            "start_offsets": run.results.map(\.startOffset),
            "request_errors": run.results.map { $0.error.map { $0 as Any } ?? NSNull() },
        ]
        if let g = m.requestGoodput { o["request_goodput"] = g; o["good_requests"] = m.goodRequests ?? 0 }
        for (name, s) in [("ttft", m.ttft), ("tpot", m.tpot), ("itl", m.itl), ("e2el", m.e2el)] {
            o["mean_\(name)_ms"] = s.mean
            o["median_\(name)_ms"] = s.median
            o["std_\(name)_ms"] = s.std
            o["p90_\(name)_ms"] = s.p90
            o["p99_\(name)_ms"] = s.p99
        }
        return o
    }

    public func jsonData() throws -> Data {
        try JSONSerialization.data(withJSONObject: jsonObject, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    public func writeJSON(to path: String) throws {
        do { try jsonData().write(to: URL(fileURLWithPath: path)) } catch {
            throw BenchError("\(path): cannot write the result file (\(OpenAIClient.oneLine(error.localizedDescription)))")
        }
    }
}
