import ArgumentParser
import Distributed
import Engine
import Foundation
import Models
import Planner

/// `shardline calibrate`: the same workload through the real engine (this machine, tp × pp
/// worker processes) and through the simulator with a measured device profile, side by side:
/// how far the planner's cost model is from what the engine does.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate", abstract: "Compare the simulator's prediction with the real engine on one workload.")

    @Option(name: .long, help: "A model directory or .gguf file the engine runs.")
    var model: String

    @Option(name: .customLong("gpu-file"), help: "This machine's device spec (plan --profile-device --devices-per-host tp×pp).")
    var gpuFile: String

    @Option(name: .long, help: "The weights' precision as the planner knows it: fp16, bf16, fp8, int8 or q4.")
    var quantization = "q4"

    @Option(name: [.customLong("tensor-parallel-size"), .customLong("tp", withSingleDash: true)], help: "Tensor-parallel size.")
    var tensorParallelSize = 1

    @Option(name: [.customLong("pipeline-parallel-size"), .customLong("pp", withSingleDash: true)], help: "Pipeline stages.")
    var pipelineParallelSize = 1

    @Option(name: .customLong("pp-layer-partition"), help: "Layers per pipeline stage, e.g. 14,4, for the engine and the simulator alike (default: an even split).")
    var ppLayerPartition: String?

    @Option(name: .customLong("num-prompts"), help: "Requests, all arriving at once; a list (1,8,32) runs each in turn.")
    var numPrompts = "32"

    @Option(name: .customLong("input-len"), help: "Prompt tokens (random ids).")
    var inputLen = 64

    @Option(name: .customLong("output-len"), help: "Generated tokens per request (EOS ignored).")
    var outputLen = 64

    @Option(name: .long, help: "Engine runs per request count; the measured figures are their medians (the simulation is deterministic).")
    var runs = 3

    @Option(name: .customLong("max-num-batched-tokens"), help: "Tokens per step, both sides.")
    var maxNumBatchedTokens = 2048

    struct Result {
        var throughput, ttft, tpot, step: Double
    }

    func run() throws {
        guard let quant = Quantization(rawValue: quantization) else { throw CLIError("--quantization must be one of \(Quantization.allCases.map(\.rawValue).joined(separator: ", "))") }
        let counts = numPrompts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard runs >= 1 else { throw CLIError("--runs must be at least 1") }
        guard !counts.isEmpty, counts.count == numPrompts.split(separator: ",").count, counts.allSatisfy({ $0 > 0 }) else {
            throw CLIError("--num-prompts must be positive integers separated by commas, got \(numPrompts)")
        }
        let maxLen = inputLen + outputLen + 16
        var scheduler = SchedulerConfig()
        scheduler.maxModelLen = maxLen
        scheduler.maxNumBatchedTokens = maxNumBatchedTokens
        let partition = try ppLayerPartition.map(EngineOptions.layerPartition)
        let parallel = ParallelConfig(tensorParallelSize: tensorParallelSize, pipelineParallelSize: pipelineParallelSize, layerPartition: partition)
        do {
            // Room for every request of the largest count on both sides, so neither preempts: the
            // engine's budget is the model's own KV bytes (f32 K and V, every layer) for that many
            // blocks, and the simulator gets the same block count.
            var cache = CacheConfig()
            let config = try ModelBundle.config(path: model)
            let blocks = counts.max()! * ((maxLen + cache.blockSize - 1) / cache.blockSize) + 1
            cache.kvCacheMemory = blocks * KVCacheBudget.bytesPerBlock(layers: config.numLayers, blockSize: cache.blockSize,
                                                                       kvHeads: config.numKVHeads, headDim: config.headDim)
            let (llm, bundle) = try LocalEngine.launch(path: model, cache: cache, scheduler: scheduler, parallel: parallel)
            defer { llm.core.executor.shutdown() }
            let spec = try ModelSpec(bundle: bundle, path: model)
            let gpu = try Catalog.gpu(file: gpuFile)
            let catalog = try Catalog.load()
            // The engine has accepted the partition (LocalEngine.launch checks it against the model).
            let layout = ParallelLayout(tp: tensorParallelSize, pp: pipelineParallelSize, layerPartition: partition)
            let memory = MemoryModel(model: spec, gpu: gpu, quantization: quant, maxNumBatchedTokens: maxNumBatchedTokens)
            let cost = CostModel(memory: memory, layout: layout, cluster: Cluster(gpusPerNode: layout.gpusPerReplica),
                                 intraNodeLink: catalog.intraNodeLink(for: gpu), interNodeLink: try catalog.link(Catalog.defaultInterNodeLinkId))
            // One short request first: the first pass touches fresh KV pages and scratch buffers.
            _ = try runEngine(llm, requests: 1, vocab: bundle.config.vocabSize, outputTokens: 2)
            print("\(bundle.config.architecture.rawValue) \(model), \(layout) on \(gpu.id), requests × (\(inputLen) in, \(outputLen) out), all at once; measured: median of \(runs) runs")
            print("requests  measure               measured   predicted   predicted/measured")
            for count in counts {
                let trials = try (0..<runs).map { _ in try runEngine(llm, requests: count, vocab: bundle.config.vocabSize, outputTokens: outputLen) }
                let measured = Result(throughput: median(trials.map(\.throughput)), ttft: median(trials.map(\.ttft)),
                                      tpot: median(trials.map(\.tpot)), step: median(trials.map(\.step)))
                let report = try Simulator(costModel: cost, scheduler: scheduler, numBlocks: blocks)
                    .run(Workload(numRequests: count, arrivals: .allAtOnce, promptLength: .fixed(inputLen), outputLength: .fixed(outputLen)))
                let predicted = Result(throughput: report.outputTokenThroughput, ttft: report.ttft.mean, tpot: report.tpot.mean,
                                       step: report.durationSeconds / Double(max(1, report.numBatches)))
                func row(_ name: String, _ m: Double, _ p: Double, _ unit: String) {
                    let label = name.padding(toLength: 20, withPad: " ", startingAt: 0)
                    print(String(format: "%8d  ", count) + label + String(format: " %9.2f   %9.2f   %6.2fx   ", m, p, p / m) + "(\(unit))")
                }
                row("output throughput", measured.throughput, predicted.throughput, "tok/s")
                row("TTFT mean", measured.ttft * 1000, predicted.ttft * 1000, "ms")
                row("TPOT mean", measured.tpot * 1000, predicted.tpot * 1000, "ms")
                row("step time", measured.step * 1000, predicted.step * 1000, "ms per batch")
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// `requests` random prompts at once through the real engine, until all finish.
    private func runEngine(_ llm: LLMEngine, requests: Int, vocab: Int, outputTokens: Int) throws -> Result {
        var params = SamplingParams()
        params.temperature = 0
        params.maxTokens = outputTokens
        params.ignoreEOS = true
        var rng = SystemRandomNumberGenerator()
        let batchesBefore = llm.core.batchesSubmitted
        let start = Date()
        var firstToken: [RequestID: Double] = [:], finished: [RequestID: Double] = [:]
        for _ in 0..<requests {
            _ = try llm.addRequest(promptTokenIds: (0..<inputLen).map { _ in Int.random(in: 10..<vocab, using: &rng) }, params: params)
        }
        while finished.count < requests {
            for out in try llm.step() {
                let t = Date().timeIntervalSince(start)
                if firstToken[out.requestId] == nil && out.numGeneratedTokens > 0 { firstToken[out.requestId] = t }
                if out.finished { finished[out.requestId] = t }
            }
        }
        let wall = Date().timeIntervalSince(start)
        let n = Double(requests)
        return Result(throughput: Double(requests * outputTokens) / wall,
                      ttft: firstToken.values.reduce(0, +) / n,
                      tpot: firstToken.map { (finished[$0.key]! - $0.value) / Double(max(1, outputTokens - 1)) }.reduce(0, +) / n,
                      step: wall / Double(max(1, llm.core.batchesSubmitted - batchesBefore)))
    }
}
