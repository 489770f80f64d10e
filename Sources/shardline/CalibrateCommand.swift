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

    @Option(name: .customLong("num-prompts"), help: "Requests, all arriving at once.")
    var numPrompts = 32

    @Option(name: .customLong("input-len"), help: "Prompt tokens (random ids).")
    var inputLen = 64

    @Option(name: .customLong("output-len"), help: "Generated tokens per request (EOS ignored).")
    var outputLen = 64

    @Option(name: .customLong("max-num-batched-tokens"), help: "Tokens per step, both sides.")
    var maxNumBatchedTokens = 2048

    func run() throws {
        guard let quant = Quantization(rawValue: quantization) else { throw CLIError("--quantization must be one of \(Quantization.allCases.map(\.rawValue).joined(separator: ", "))") }
        let maxLen = inputLen + outputLen + 16
        var scheduler = SchedulerConfig()
        scheduler.maxModelLen = maxLen
        scheduler.maxNumBatchedTokens = maxNumBatchedTokens
        let parallel = ParallelConfig(tensorParallelSize: tensorParallelSize, pipelineParallelSize: pipelineParallelSize)
        do {
            // The real engine.
            var cache = CacheConfig()
            cache.kvCacheMemory = max(64 << 20, numPrompts * maxLen * 4096)
            let (llm, bundle) = try LocalEngine.launch(path: model, cache: cache, scheduler: scheduler, parallel: parallel)
            defer { llm.core.executor.shutdown() }
            let vocab = bundle.config.vocabSize
            var params = SamplingParams()
            params.temperature = 0
            params.maxTokens = outputLen
            params.ignoreEOS = true
            var rng = SystemRandomNumberGenerator()
            let start = Date()
            var firstToken: [RequestID: Double] = [:], finished: [RequestID: Double] = [:]
            for _ in 0..<numPrompts {
                _ = try llm.addRequest(promptTokenIds: (0..<inputLen).map { _ in Int.random(in: 10..<vocab, using: &rng) }, params: params)
            }
            while finished.count < numPrompts {
                for out in try llm.step() {
                    let t = Date().timeIntervalSince(start)
                    if firstToken[out.requestId] == nil && out.numGeneratedTokens > 0 { firstToken[out.requestId] = t }
                    if out.finished { finished[out.requestId] = t }
                }
            }
            let wall = Date().timeIntervalSince(start)
            let measured = (throughput: Double(numPrompts * outputLen) / wall,
                            ttft: firstToken.values.reduce(0, +) / Double(numPrompts),
                            tpot: zip(firstToken.keys.map { finished[$0]! }, firstToken.values).map { ($0 - $1) / Double(outputLen - 1) }.reduce(0, +) / Double(numPrompts),
                            step: wall / Double(llm.core.batchesSubmitted))

            // The simulator, same shapes and workload.
            let c = bundle.config
            var configJSON: [String: Any] = [
                "model_type": c.architecture.rawValue, "hidden_size": c.hiddenSize, "intermediate_size": c.intermediateSize,
                "num_hidden_layers": c.numLayers, "num_attention_heads": c.numHeads, "num_key_value_heads": c.numKVHeads,
                "head_dim": c.headDim, "vocab_size": c.vocabSize, "tie_word_embeddings": c.tieWordEmbeddings,
                "max_position_embeddings": c.maxPositionEmbeddings,
            ]
            if let w = c.slidingWindow { configJSON["sliding_window"] = w }
            let spec = try ModelSpec(huggingFaceConfig: try JSONSerialization.data(withJSONObject: configJSON), id: URL(fileURLWithPath: model).lastPathComponent, source: model)
            let gpu = try Catalog.gpu(file: gpuFile)
            let catalog = try Catalog.load()
            let layout = ParallelLayout(tp: tensorParallelSize, pp: pipelineParallelSize)
            let memory = MemoryModel(model: spec, gpu: gpu, quantization: quant, maxNumBatchedTokens: maxNumBatchedTokens)
            let cost = CostModel(memory: memory, layout: layout, cluster: Cluster(gpusPerNode: layout.gpusPerReplica),
                                 intraNodeLink: catalog.intraNodeLink(for: gpu), interNodeLink: try catalog.link(Catalog.defaultInterNodeLinkId))
            let plan = memory.plan(layout, maxModelLen: maxLen)
            let report = try Simulator(costModel: cost, scheduler: scheduler, numBlocks: max(plan.numBlocksPerReplica, numPrompts * (maxLen / 16 + 1)))
                .run(Workload(numRequests: numPrompts, arrivals: .allAtOnce, promptLength: .fixed(inputLen), outputLength: .fixed(outputLen)))
            let predicted = (throughput: report.outputTokenThroughput, ttft: report.ttft.mean, tpot: report.tpot.mean,
                             step: report.durationSeconds / Double(max(1, report.numBatches)))

            print("\(bundle.config.architecture.rawValue) \(model), \(layout) on \(gpu.id), \(numPrompts) requests × (\(inputLen) in, \(outputLen) out), all at once")
            print("measure                 measured   predicted   predicted/measured")
            func row(_ name: String, _ m: Double, _ p: Double, _ unit: String) {
                let label = name.padding(toLength: 22, withPad: " ", startingAt: 0)
                print(label + String(format: " %9.2f   %9.2f   %6.2fx   ", m, p, p / m) + "(\(unit))")
            }
            row("output throughput", measured.throughput, predicted.throughput, "tok/s")
            row("TTFT mean", measured.ttft * 1000, predicted.ttft * 1000, "ms")
            row("TPOT mean", measured.tpot * 1000, predicted.tpot * 1000, "ms")
            row("step time", measured.step * 1000, predicted.step * 1000, "ms per batch")
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(error)")
        }
    }
}
