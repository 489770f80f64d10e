import ArgumentParser
import Compute
import Distributed
import Engine
import Foundation
import Models

/// `make bench`: our prefill and decode speed on a model, side by side with llama.cpp's on the
/// same file and thread count, and decode as a share of the memory-bandwidth roofline.
struct BenchModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-model",
        abstract: "Measure prefill and decode speed on a model (and llama.cpp's, with --compare-llamacpp).")

    @Option(name: .long, help: "Model directory or .gguf file.")
    var model: String

    @Option(name: .customLong("prompt-tokens"), help: "Prompt length for the prefill measurement.")
    var promptTokens = 512

    @Option(name: .customLong("decode-tokens"), help: "Tokens decoded per sequence.")
    var decodeTokens = 128

    @Option(name: .long, help: "Concurrent sequences for the aggregate decode measurements.")
    var batches: [Int] = [8, 32]

    @Option(name: .long, help: "Runs per measurement; medians are reported.")
    var runs = 3

    @Option(name: .customLong("compare-llamacpp"), help: "Python with llama-cpp-python installed, to run llama.cpp on the same file.")
    var llamaCppPython: String?

    /// Prompt length of every decode measurement: decode speed at a short context.
    static let decodePrompt = 16

    func validate() throws {
        for (flag, value) in [("--prompt-tokens", promptTokens), ("--decode-tokens", decodeTokens), ("--runs", runs)] where value < 1 {
            throw CLIError("\(flag) must be at least 1, got \(value)")
        }
        if let b = batches.first(where: { $0 < 1 }) { throw CLIError("--batches must be at least 1, got \(b)") }
    }

    func run() async throws {
        let bundle: ModelBundle
        do { bundle = try ModelBundle.load(path: model) } catch let e as CustomStringConvertible { throw CLIError(e.description) }
        let threads = ThreadPool.shared.threadCount
        var cache = CacheConfig()
        cache.kvCacheMemory = 1 << 30
        var scheduler = SchedulerConfig()
        scheduler.maxModelLen = max(promptTokens, 64) + decodeTokens + 8
        scheduler.maxNumBatchedTokens = max(promptTokens, 2048)
        // Every timing computes its whole prompt: a batch prompt's seed is a later run's prefill seed.
        scheduler.enablePrefixCaching = false
        let llm = try LocalEngine.make(bundle: bundle, cache: cache, scheduler: scheduler)
        func prompt(_ n: Int, _ seed: Int) -> [Int] {
            let ids = SyntheticLoad.promptIds(count: n, seed: seed, vocabSize: bundle.config.vocabSize)
            return [bundle.tokenizer.bosTokenId ?? ids[0]] + ids.dropFirst()
        }
        var params = SamplingParams.greedy
        params.ignoreEOS = true

        var prefill: [Double] = [], decode1: [Double] = [], aggregate: [Int: [Double]] = [:]
        var readings: [(before: MachineReading, after: MachineReading)] = []
        // Bytes one batch-1 decode step reads: all weights, and the KV context, averaged over the
        // timed steps (contexts of decodePrompt + 1 through decodePrompt + decodeTokens).
        let kvPerToken = Double((1...decodeTokens).reduce(0) { $0 + bundle.model.kvBytesRead(context: Self.decodePrompt + $1) })
            / Double(decodeTokens)
        let bytesPerToken = Double(bundle.model.weightBytes) + kvPerToken
        for run in 0..<runs {
            params.maxTokens = 1
            let t0 = Date()
            _ = try llm.generate([prompt(promptTokens, run)], params: params)
            prefill.append(Double(promptTokens) / Date().timeIntervalSince(t0))
            // The roofline is measured on both sides of the decode it judges: on a shared VM the
            // speed of both moves from minute to minute, and a bandwidth taken at another moment
            // skews the share.
            let before = MachineReading.take()
            decode1.append(try decodeRate(llm, prompts: [prompt(Self.decodePrompt, run)], params: params))
            readings.append((before, MachineReading.take()))
            for b in batches {
                aggregate[b, default: []].append(try decodeRate(llm, prompts: (0..<b).map { prompt(Self.decodePrompt, run * 100 + $0) }, params: params))
            }
        }
        let runBandwidths = readings.map { ($0.before.bandwidth + $0.after.bandwidth) / 2 }
        let rooflineShares = zip(decode1, runBandwidths).map { rate, bandwidth in rate * bytesPerToken / bandwidth }
        let bandwidth = median(runBandwidths), roofline = bandwidth / bytesPerToken
        var rows: [(String, Double, Double?)] = [
            ("prefill tok/s (\(promptTokens)-token prompt)", median(prefill), nil),
            ("decode tok/s, batch 1", median(decode1), nil),
        ]
        for b in batches { rows.append(("decode tok/s aggregate, \(b) sequences", median(aggregate[b]!), nil)) }
        if let python = llamaCppPython {
            let theirs = try llamaCpp(python: python, threads: threads)
            rows[0].2 = theirs.prefill
            rows[1].2 = theirs.decode
            for (i, b) in batches.enumerated() { rows[2 + i].2 = theirs.aggregate[b] }
        }
        print("model: \(model) (\(KVCacheBudget.human(bundle.model.weightBytes)) of weights), threads: \(threads), medians of \(runs) runs")
        print(pad("measure", 44) + pad("shardline", 12) + pad("llama.cpp", 12) + "ratio")
        for (name, ours, theirs) in rows {
            print(pad(name, 44) + pad(String(format: "%.1f", ours), 12) + pad(theirs.map { String(format: "%.1f", $0) } ?? "-", 12)
                  + (theirs.map { String(format: "%.2fx", ours / $0) } ?? "-"))
        }
        print(String(format: "memory read bandwidth: %.1f GB/s; %.1f MB read per decode token (KV %.1f MB); "
                     + "batch-1 decode roofline %.1f tok/s; ours is %.0f%% of it",
                     bandwidth / 1e9, bytesPerToken / 1e6, kvPerToken / 1e6,
                     roofline, 100 * median(rooflineShares)))
        func nanoseconds(_ t: Double?) -> String { t.map { String(format: "%.0f", $0) } ?? "?" }
        print("(each run's decode against the mean of the bandwidths measured just before and after it, with the "
              + "round trip of a cache line between CPUs 0 and 1 then: " +
              zip(zip(decode1, readings), rooflineShares).map { pair, share in
                  let (rate, (before, after)) = pair
                  return String(format: "%.0f%% (%.1f tok/s; %.1f then %.1f GB/s; ", 100 * share, rate, before.bandwidth / 1e9, after.bandwidth / 1e9)
                      + "\(nanoseconds(before.roundTrip)) then \(nanoseconds(after.roundTrip)) ns)"
              }.joined(separator: ", ") + ")")
    }

    /// What the machine offers at one moment: the read bandwidth the roofline divides, and the
    /// round trip of a cache line between CPUs 0 and 1, which tells a VM whose vCPUs share an L3
    /// from one whose do not.
    private struct MachineReading {
        let bandwidth: Double
        let roundTrip: Double?

        static func take() -> MachineReading {
            MachineReading(bandwidth: MemoryBandwidth.measureRead(bytes: 256 << 20, runs: 3), roundTrip: CoreRoundTrip.measure())
        }
    }

    private func decodeRate(_ llm: LLMEngine, prompts: [[Int]], params: SamplingParams) throws -> Double {
        try SyntheticLoad.decodeRate(llm, prompts: prompts, params: params, decodeTokens: decodeTokens)
    }

    private func llamaCpp(python: String, threads: Int) throws -> (prefill: Double, decode: Double, aggregate: [Int: Double]) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Benchmarks/llamacpp_model_bench.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, "--model", model, "--threads", "\(threads)", "--prompt-tokens", "\(promptTokens)",
                             "--decode-tokens", "\(decodeTokens)", "--runs", "\(runs)",
                             "--batches", batches.map(String.init).joined(separator: ",")]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice  // llama.cpp logs every context it makes
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let prefill = (json["prefill_tok_s"] as? [String: Double])?["median"],
              let decode = (json["decode_tok_s"] as? [String: Double])?["median"] else {
            throw CLIError("llama.cpp benchmark failed: \(String(decoding: data, as: UTF8.self))")
        }
        var aggregate: [Int: Double] = [:]
        for b in batches { aggregate[b] = (json["aggregate_\(b)_tok_s"] as? [String: Double])?["median"] }
        return (prefill, decode, aggregate)
    }
}

private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
