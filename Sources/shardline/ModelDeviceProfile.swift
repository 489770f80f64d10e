import Distributed
import Engine
import Foundation
import Models
import Planner

/// This machine as a device, measured by running a model through the engine: a decode step at
/// batch 1, 8 and 32 and a 512-token prefill, each device a process with its share of the
/// cores, all devices at once (they share the cores and the memory bus). The rates written are
/// the ones under which the planner's cost model reproduces those timings; the datasheet
/// efficiency factors do not apply to them (`measured: true`).
///
/// Why not the generic kernel probe (`--profile-device` without `--model`): quantized GGUF
/// layers on this CPU run at neither DRAM bandwidth nor f32 GEMM speed, so a profile from those
/// two figures predicted 1.5x the engine's throughput (calibrate, session 2).
enum ModelDeviceProfile {
    typealias Timings = MeasuredTimings

    /// Runs `busy` copies (default: all `devices`) of `shardline plan --profile-device --model M
    /// --profile-timings` at once, each with cores / devices threads, and averages their timings.
    /// `busy: 1` times one device while the host's others idle (its alone rates).
    static func measure(model: String, devices: Int, busy: Int? = nil) throws -> Timings {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var children: [(Process, Pipe)] = []
        for _ in 0..<(busy ?? devices) {
            let p = Process(), out = Pipe()
            p.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
            p.arguments = ["plan", "--profile-device", "--model", model, "--profile-timings"]
            var env = ProcessInfo.processInfo.environment
            env["SHARDLINE_NUM_THREADS"] = String(max(1, cores / devices))
            p.environment = env
            p.standardOutput = out
            try p.run()
            children.append((p, out))
        }
        var all: [Timings] = []
        for (p, out) in children {
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0, let t = try? JSONDecoder().decode(Timings.self, from: data) else {
                throw CLIError("device profile of \(model) failed: \(String(decoding: data, as: UTF8.self))")
            }
            all.append(t)
        }
        func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }
        let batch = all.compactMap(\.batchDecodeStepSeconds), mid = all.compactMap(\.midDecodeStepSeconds)
        return Timings(decodeStepSeconds: mean(all.map(\.decodeStepSeconds)), prefillSeconds: mean(all.map(\.prefillSeconds)),
                       prefillTokens: all[0].prefillTokens, batchDecodeStepSeconds: batch.count == all.count ? mean(batch) : nil,
                       batchDecodeRows: all[0].batchDecodeRows, midDecodeStepSeconds: mid.count == all.count ? mean(mid) : nil,
                       midDecodeRows: all[0].midDecodeRows)
    }

    /// This process's timings: medians over 5 runs of a 64-step decode of one sequence, a 512-token
    /// prefill (shorter where the model's context is) and 16-step decodes of 8 and of 32 sequences at once.
    /// 512 tokens because a prefill's cost per token falls with its length (this VM, default model:
    /// 5.0 ms at 256 tokens, 3.8 at 512, 3.7 in calibrate's 2048-token steps) and a loaded engine's
    /// prefill steps are long; the batch decode fits the cost a sampled row adds beyond its FLOPs
    /// and bytes (`GPUSpec.sampledRowSeconds`), the 8-row one how much of a GEMM's compute hides
    /// under its streaming (`GPUSpec.gemmSerialFraction`). No prefix caching: each timing computes its whole prompt.
    static func timings(model: String) throws -> Timings {
        let bundle = try ModelBundle.load(path: model)
        let prefillTokens = min(512, bundle.config.maxPositionEmbeddings - 64), batchRows = 32, midRows = 8
        // Room for the 32 short sequences at once (3 blocks each) and the prefill, without preempting.
        var cache = CacheConfig()
        let blocks = 3 * batchRows + prefillTokens / cache.blockSize + 8
        cache.kvCacheMemory = max(256 << 20, blocks * bundle.model.kvBytesPerBlock(blockSize: cache.blockSize))
        var scheduler = SchedulerConfig()
        scheduler.maxModelLen = prefillTokens + 64
        scheduler.maxNumBatchedTokens = prefillTokens
        scheduler.enablePrefixCaching = false
        let llm = try LocalEngine.make(bundle: bundle, cache: cache, scheduler: scheduler)
        func prompt(_ n: Int, _ seed: Int) -> [Int] { SyntheticLoad.promptIds(count: n, seed: seed, vocabSize: bundle.config.vocabSize) }
        var params = SamplingParams.greedy
        params.ignoreEOS = true
        var decode: [Double] = [], prefill: [Double] = [], batchDecode: [Double] = [], midDecode: [Double] = []
        for run in 0..<5 {
            params.maxTokens = 1
            let t0 = Date()
            _ = try llm.generate([prompt(prefillTokens, run)], params: params)
            prefill.append(Date().timeIntervalSince(t0))
            decode.append(1 / (try SyntheticLoad.decodeRate(llm, prompts: [prompt(16, run + 10)], params: params, decodeTokens: 64)))
            let prompts = (0..<batchRows).map { prompt(16, 100 * run + $0 + 20) }
            batchDecode.append(Double(batchRows) / (try SyntheticLoad.decodeRate(llm, prompts: prompts, params: params, decodeTokens: 16)))
            let midPrompts = (0..<midRows).map { prompt(16, 100 * run + $0 + 60) }
            midDecode.append(Double(midRows) / (try SyntheticLoad.decodeRate(llm, prompts: midPrompts, params: params, decodeTokens: 16)))
        }
        return Timings(decodeStepSeconds: median(decode), prefillSeconds: median(prefill), prefillTokens: prefillTokens,
                       batchDecodeStepSeconds: median(batchDecode), batchDecodeRows: batchRows,
                       midDecodeStepSeconds: median(midDecode), midDecodeRows: midRows)
    }
}
