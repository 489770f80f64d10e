// Compiles to nothing until Package.swift gives `shardline` the `Bench` module.
#if canImport(Bench)
import ArgumentParser
import Bench
import Foundation

/// `shardline bench …`: load generators. `bench serve` benchmarks any OpenAI-compatible server.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark a serving endpoint.",
        subcommands: [BenchServeCommand.self])
}

/// vLLM's `bench serve`: stream a dataset at a server at a given rate and concurrency; report
/// throughput and TTFT / TPOT / ITL / end-to-end latency percentiles.
struct BenchServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Benchmark an OpenAI-compatible server (Shardline, vLLM, llama.cpp, ...): throughput and latency percentiles.")

    @Option(name: .customLong("base-url"), help: "The server, e.g. http://127.0.0.1:8000.")
    var baseURL = "http://127.0.0.1:8000"

    @Option(help: "Model name to send (default: the first one /v1/models lists).")
    var model: String?

    @Option(help: "/v1/completions or /v1/chat/completions.")
    var endpoint = "/v1/completions"

    @Option(help: "random, shared-prefix or sharegpt.")
    var dataset = "random"

    @Option(name: .customLong("dataset-path"), help: "ShareGPT JSON file for --dataset sharegpt.")
    var datasetPath: String?

    @Option(name: .customLong("input-len"), help: "Prompt tokens (random; suffix tokens for shared-prefix).")
    var inputLen = 1024

    @Option(name: .customLong("output-len"), help: "Tokens to generate per request (default 128; ShareGPT: the reply's length).")
    var outputLen: Int?

    @Option(name: .customLong("range-ratio"), help: "Draw lengths uniformly from [len·(1−R), len·(1+R)].")
    var rangeRatio = 0.0

    @Option(name: .customLong("shared-prefix-len"), help: "Tokens in each shared prefix (shared-prefix).")
    var sharedPrefixLen = 256

    @Option(name: .customLong("num-prefixes"), help: "Distinct shared prefixes (shared-prefix).")
    var numPrefixes = 4

    @Option(name: .customLong("num-prompts"), help: "Requests per run.")
    var numPrompts = 1000

    @Option(name: .customLong("request-rate"), help: "Requests per second, or inf to send all at once.")
    var requestRate = "inf"

    @Option(help: "Burstiness of arrivals: gamma shape of the gaps (1 = Poisson, <1 burstier).")
    var burstiness = 1.0

    @Option(name: .customLong("max-concurrency"), help: "Most requests in flight at once.")
    var maxConcurrency: Int?

    @Option(name: .customLong("concurrency-sweep"), help: "Comma-separated max concurrencies to run one after another, e.g. 1,4,16,64.")
    var concurrencySweep: String?

    @Option(help: "Requests to send, unmeasured, before the benchmark.")
    var warmup = 0

    @Option(help: "Seed for the dataset and the arrival times.")
    var seed = 0

    @Option(help: "Sampling temperature sent with every request.")
    var temperature = 0.0

    @Flag(name: .customLong("no-ignore-eos"), help: "Let requests stop at EOS (lengths are then not controlled).")
    var noIgnoreEOS = false

    @Option(name: .customLong("api-key"), help: "Bearer token (default: $OPENAI_API_KEY).")
    var apiKey: String?

    @Option(name: .customLong("request-timeout"), help: "Seconds one request may take.")
    var requestTimeout = 3600.0

    @Option(name: .customLong("result-file"), help: "Write every metric, and per-request detail, as JSON.")
    var resultFile: String?

    @Option(help: "Write an SVG chart of throughput and latency against concurrency (with --concurrency-sweep).")
    var chart: String?

    @Option(parsing: .upToNextOption, help: "SLOs for goodput, e.g. ttft:200 tpot:50 e2el:5000 (milliseconds).")
    var goodput: [String] = []

    func makeConfig() throws -> BenchConfig {
        var c = BenchConfig()
        c.baseURL = baseURL
        c.model = model
        c.endpoint = endpoint
        guard let kind = DatasetKind(rawValue: dataset) else {
            throw BenchError("--dataset must be one of: \(DatasetKind.allCases.map(\.rawValue).joined(separator: ", ")); got '\(dataset)'")
        }
        c.dataset.kind = kind
        c.dataset.path = datasetPath
        c.dataset.inputLen = inputLen
        c.dataset.outputLen = outputLen
        c.dataset.rangeRatio = rangeRatio
        c.dataset.sharedPrefixLen = sharedPrefixLen
        c.dataset.numPrefixes = numPrefixes
        c.dataset.numPrompts = numPrompts
        c.dataset.seed = UInt64(bitPattern: Int64(seed))
        guard let rate = Double(requestRate.lowercased() == "inf" ? "inf" : requestRate), rate > 0 else {
            throw BenchError("--request-rate must be a positive number or inf, got '\(requestRate)'")
        }
        c.requestRate = rate
        c.burstiness = burstiness
        c.maxConcurrency = maxConcurrency
        if let sweep = concurrencySweep {
            c.concurrencySweep = try sweep.split(separator: ",").map {
                guard let n = Int($0.trimmingCharacters(in: .whitespaces)), n > 0 else {
                    throw BenchError("--concurrency-sweep must be comma-separated positive integers, got '\(sweep)'")
                }
                return n
            }
        }
        if chart != nil && c.concurrencySweep.isEmpty {
            throw BenchError("--chart needs --concurrency-sweep (it plots metrics against concurrency)")
        }
        c.warmup = warmup
        c.temperature = temperature
        c.ignoreEOS = !noIgnoreEOS
        c.apiKey = apiKey ?? ProcessInfo.processInfo.environment["OPENAI_API_KEY"]
        c.requestTimeout = requestTimeout
        c.goodput = try GoodputSLO(parsing: goodput)
        try c.validate()
        return c
    }

    func run() async throws {
        do {
            let config = try makeConfig()
            let report = try await BenchRunner.run(config) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            if config.concurrencySweep.isEmpty {
                print(BenchReport.summary(report.runs[0], config: config))
            } else {
                for run in report.runs {
                    for (reason, count) in run.metrics.failures {
                        print("concurrency \(run.maxConcurrency ?? 0): \(count) failed: \(reason)")
                    }
                }
                print(report.sweepTable)
            }
            if let resultFile {
                try report.writeJSON(to: resultFile)
                FileHandle.standardError.write(Data("results written to \(resultFile)\n".utf8))
            }
            if let chart {
                do { try SVGChart(report: report).render().write(toFile: chart, atomically: true, encoding: .utf8) } catch {
                    throw BenchError("\(chart): cannot write the chart (\(error.localizedDescription))")
                }
                FileHandle.standardError.write(Data("chart written to \(chart)\n".utf8))
            }
        } catch let error as BenchError {
            throw CLIError(error.description)
        }
    }
}
#endif
