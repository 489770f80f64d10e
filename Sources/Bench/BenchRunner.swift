import Foundation

/// Everything `shardline bench serve` is told.
public struct BenchConfig: Sendable {
    public var baseURL = "http://127.0.0.1:8000"
    public var endpoint = "/v1/completions"
    /// nil: the first model the server lists.
    public var model: String?
    public var apiKey: String?
    public var dataset = DatasetOptions()
    /// Requests per second; infinity sends every request at once.
    public var requestRate = Double.infinity
    public var burstiness = 1.0
    /// The most requests in flight at once (nil: no limit).
    public var maxConcurrency: Int?
    /// Run once per value, as the max concurrency.
    public var concurrencySweep: [Int] = []
    /// Requests sent and discarded before measuring.
    public var warmup = 0
    public var temperature = 0.0
    public var ignoreEOS = true
    public var goodput = GoodputSLO()
    /// Seconds one request may take.
    public var requestTimeout = 3600.0

    public init() {}

    public var api: OpenAIAPI { OpenAIAPI(endpoint: endpoint) }

    public func validate() throws {
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
            throw BenchError("--base-url must start with http:// or https://, got '\(baseURL)'")
        }
        guard endpoint.hasPrefix("/") else { throw BenchError("--endpoint must be a path like /v1/completions, got '\(endpoint)'") }
        guard requestRate > 0 && !requestRate.isNaN else { throw BenchError("--request-rate must be positive or inf") }
        guard burstiness > 0 && burstiness.isFinite else { throw BenchError("--burstiness must be positive") }
        if let c = maxConcurrency, c <= 0 { throw BenchError("--max-concurrency must be positive") }
        if concurrencySweep.contains(where: { $0 <= 0 }) { throw BenchError("--concurrency-sweep values must be positive") }
        guard warmup >= 0 else { throw BenchError("--warmup must not be negative") }
        guard requestTimeout > 0 else { throw BenchError("--request-timeout must be positive") }
        try dataset.validate()
    }
}

/// One run at one max concurrency.
public struct BenchRun: Sendable {
    public var maxConcurrency: Int?
    public var metrics: BenchMetrics
    public var results: [RequestResult]
}

/// What a benchmark found: its settings, its prompts' provenance and one run per concurrency.
public struct BenchReport: Sendable {
    public var config: BenchConfig
    public var model: String
    public var date: Date
    /// Whether prompt lengths came from the server's tokenizer.
    public var exactPromptLengths: Bool
    public var runs: [BenchRun]
}

/// Drives a benchmark against an OpenAI-compatible server: builds the dataset, then sends it at
/// the requested rate under the concurrency limit, streaming every request.
public enum BenchRunner {
    public static func run(_ config: BenchConfig, log: @Sendable (String) -> Void = { _ in }) async throws -> BenchReport {
        try config.validate()
        let levels: [Int?] = config.concurrencySweep.isEmpty ? [config.maxConcurrency] : config.concurrencySweep.map { $0 }
        let widest = levels.map { $0 ?? config.dataset.numPrompts }.max() ?? 1
        let client = OpenAIClient(baseURL: config.baseURL, apiKey: config.apiKey, requestTimeout: config.requestTimeout,
                                  maxConnections: min(widest, 4096))
        do {
            let report = try await run(config, client: client, levels: levels, log: log)
            await client.shutdown()
            return report
        } catch {
            await client.shutdown()
            throw error
        }
    }

    static func run(_ config: BenchConfig, client: OpenAIClient, levels: [Int?], log: @Sendable (String) -> Void) async throws -> BenchReport {
        try await client.checkReachable()
        let (names, maxModelLen) = await client.models()
        guard let model = config.model ?? names.first else {
            throw BenchError("give --model: \(client.url("/v1/models")) lists no model")
        }
        let tokenizer = await RemoteTokenizer.probe(client)
        if tokenizer == nil { log("note: \(client.url("/tokenize")) is not available; prompt lengths are estimates") }
        var options = config.dataset
        options.maxModelLen = maxModelLen
        let prompts = try await DatasetBuilder.make(options, tokenizer: tokenizer).build()
        log("dataset: \(prompts.count) \(options.kind.rawValue) prompts, mean \(mean(prompts.map(\.promptTokens))) prompt tokens, mean \(mean(prompts.map(\.outputTokens))) output tokens")

        if config.warmup > 0 {
            let warm = (0..<config.warmup).map { prompts[$0 % prompts.count] }
            log("warmup: \(warm.count) requests")
            _ = await runOnce(client: client, config: config, model: model, prompts: warm,
                              offsets: [Double](repeating: 0, count: warm.count),
                              maxConcurrency: levels.compactMap { $0 }.max() ?? config.maxConcurrency)
        }
        let offsets = ArrivalSchedule.offsets(count: prompts.count, rate: config.requestRate, burstiness: config.burstiness,
                                              seed: options.seed)
        var runs: [BenchRun] = []
        for level in levels {
            log("running \(prompts.count) requests, request rate \(config.requestRate.isFinite ? String(config.requestRate) : "inf"), max concurrency \(level.map(String.init) ?? "unlimited")")
            let (results, duration, peak) = await runOnce(client: client, config: config, model: model, prompts: prompts,
                                                          offsets: offsets, maxConcurrency: level)
            let metrics = BenchMetrics(results: results, duration: duration, slo: config.goodput, peakConcurrency: peak)
            runs.append(BenchRun(maxConcurrency: level, metrics: metrics, results: results))
        }
        return BenchReport(config: config, model: model, date: Date(), exactPromptLengths: prompts.allSatisfy(\.exactLength), runs: runs)
    }

    /// Sends `prompts` at `offsets` (seconds from the start), at most `maxConcurrency` in flight;
    /// returns each request's result in prompt order, the run's duration and its peak concurrency.
    static func runOnce(client: OpenAIClient, config: BenchConfig, model: String, prompts: [BenchPrompt], offsets: [Double],
                        maxConcurrency: Int?) async -> (results: [RequestResult], duration: Double, peak: Int) {
        let clock = ContinuousClock()
        let limiter = ConcurrencyLimiter(limit: maxConcurrency)
        let api = config.api
        let start = clock.now
        var results = [RequestResult](repeating: RequestResult(), count: prompts.count)
        await withTaskGroup(of: (Int, RequestResult).self) { group in
            for (i, prompt) in prompts.enumerated() {
                let due = start + .milliseconds(Int64(offsets[i] * 1000))
                if clock.now < due { try? await Task.sleep(until: due, clock: clock) }
                await limiter.acquire()
                group.addTask {
                    let sent = clock.now
                    let body = OpenAIClient.body(api: api, model: model, prompt: prompt.text, maxTokens: prompt.outputTokens,
                                                 ignoreEOS: config.ignoreEOS, temperature: config.temperature)
                    var result = await client.stream(endpoint: config.endpoint, api: api, body: body)
                    await limiter.release()
                    result.startOffset = seconds(sent - start)
                    result.promptTokens = prompt.promptTokens
                    result.requestedOutputTokens = prompt.outputTokens
                    return (i, result)
                }
            }
            for await (i, result) in group { results[i] = result }
        }
        let duration = seconds(clock.now - start)
        return (results, duration, await limiter.peak)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func mean(_ xs: [Int]) -> String {
        xs.isEmpty ? "0" : String(format: "%.1f", Double(xs.reduce(0, +)) / Double(xs.count))
    }
}

/// A counting semaphore for async code, first come first served, that remembers its high-water mark.
actor ConcurrencyLimiter {
    let limit: Int?
    private(set) var inFlight = 0
    private(set) var peak = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int?) { self.limit = limit }

    func acquire() async {
        if let limit, inFlight >= limit {
            // release() hands its slot straight to the first waiter.
            await withCheckedContinuation { waiters.append($0) }
        } else {
            inFlight += 1
        }
        peak = max(peak, inFlight)
    }

    func release() {
        if waiters.isEmpty {
            inFlight -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
