import ArgumentParser
import Distributed
import Engine
import Foundation
import Models
import Planner

/// `shardline simulate`: the engine's real EngineCore, Scheduler and KVCacheManager against a
/// simulated executor on catalog hardware, in virtual time.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate", abstract: "Simulate serving a workload on GPUs with the engine's own scheduler.")

    @Option(name: .long, help: "A catalog model id or a Hugging Face config.json path.")
    var model: String

    @Option(name: .long, help: "A catalog GPU id.")
    var gpu: String?

    @Option(name: .customLong("gpu-file"), help: "A GPU spec JSON file instead of --gpu (e.g. from plan --profile-device).")
    var gpuFile: String?

    @Option(name: [.customLong("tensor-parallel-size"), .customLong("tp", withSingleDash: true)], help: "Tensor-parallel size.")
    var tensorParallelSize = 1

    @Option(name: [.customLong("pipeline-parallel-size"), .customLong("pp", withSingleDash: true)], help: "Pipeline stages.")
    var pipelineParallelSize = 1

    @Option(name: .customLong("pp-layer-partition"), help: "Layers per pipeline stage, e.g. 14,4, as the engine's flag (default: an even split).")
    var ppLayerPartition: String?

    @Option(name: [.customLong("data-parallel-size"), .customLong("dp", withSingleDash: true)], help: "Replicas behind a router, each with its own TP × PP GPUs and KV cache.")
    var dataParallelSize = 1

    @Option(name: .long, help: "How the router picks a replica: round-robin, least-loaded or prefix-aware.")
    var routing = RoutingPolicy.roundRobin.rawValue

    @Option(name: .long, help: "Nodes the replica spans (GPUs split evenly).")
    var nodes = 1

    @Option(name: .long, help: "Weight precision: fp16, bf16, fp8, int8 or q4.")
    var quantization = "bf16"

    @Option(name: .customLong("max-model-len"), help: "Maximum prompt + output tokens (default: the model's).")
    var maxModelLen: Int?

    @Option(name: .customLong("max-num-seqs"), help: "Maximum requests running at once.")
    var maxNumSeqs = 256

    @Option(name: .customLong("max-num-batched-tokens"), help: "Maximum tokens per step.")
    var maxNumBatchedTokens = 2048

    @Option(name: .customLong("gpu-memory-utilization"), help: "Share of GPU memory the engine may use.")
    var gpuMemoryUtilization = 0.9

    @Option(name: .customLong("num-prompts"), help: "Requests to simulate.")
    var numPrompts = 200

    @Option(name: .customLong("request-rate"), help: "Poisson arrivals per second (inf: all at once).")
    var requestRate = "inf"

    @Option(name: .customLong("max-concurrency"), help: "Keep this many requests in flight (closed loop) instead of arrivals.")
    var maxConcurrency: Int?

    @Option(name: .customLong("input-len"), help: "Prompt tokens.")
    var inputLen = 512

    @Option(name: .customLong("output-len"), help: "Output tokens.")
    var outputLen = 128

    @Option(name: .customLong("range-ratio"), help: "Lengths uniform in [len·(1−r), len·(1+r)].")
    var rangeRatio = 0.0

    @Option(name: .customLong("shared-prefix-len"), help: "Prompts open with one of --num-prefixes shared prefixes of this many tokens, before their --input-len own.")
    var sharedPrefixLen = 0

    @Option(name: .customLong("num-prefixes"), help: "Distinct shared prefixes (each request draws one at random).")
    var numPrefixes = 1

    @Option(name: .long, help: "Seed of arrivals and lengths.")
    var seed: UInt64 = 0

    @Flag(name: .customLong("capacity-search"), help: "Find the highest Poisson rate meeting --ttft-p99 and --tpot-p99.")
    var capacitySearch = false

    @Option(name: .customLong("ttft-p99"), help: "TTFT p99 target, seconds (capacity search).")
    var ttftTarget = 2.0

    @Option(name: .customLong("tpot-p99"), help: "TPOT p99 target, seconds (capacity search).")
    var tpotTarget = 0.1

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Option(name: .customLong("trace-file"), help: "Write the simulated timeline (one track per stage) as a Chrome trace, like serve's --trace-file.")
    var traceFile: String?

    func run() throws {
        guard let quant = Quantization(rawValue: quantization.lowercased()) else {
            throw CLIError("--quantization must be one of \(Quantization.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let policy = RoutingPolicy(rawValue: routing) else {
            throw CLIError("--routing must be one of \(RoutingPolicy.allCases.map(\.rawValue).joined(separator: ", ")), got '\(routing)'")
        }
        guard dataParallelSize >= 1 else { throw CLIError("--data-parallel-size must be at least 1, got \(dataParallelSize)") }
        guard sharedPrefixLen >= 0, numPrefixes >= 1 else {
            throw CLIError("--shared-prefix-len must be ≥ 0 and --num-prefixes ≥ 1, got \(sharedPrefixLen) and \(numPrefixes)")
        }
        do {
            let catalog = try Catalog.load()
            let spec = try catalog.model(idOrConfigPath: model)
            let gpuSpec = try catalog.gpu(id: gpu, file: gpuFile)
            let world = tensorParallelSize * pipelineParallelSize
            guard world % nodes == 0 else { throw CLIError("--nodes \(nodes) does not divide \(world) GPUs") }
            let cluster = Cluster(nodes: nodes, gpusPerNode: world / nodes)
            let partition = try ppLayerPartition.map(EngineOptions.layerPartition)
            // The engine's own check of a partition against the model's layers, and its message.
            if let partition { _ = try ShardPlan.stageLayers(numLayers: spec.numLayers, stages: pipelineParallelSize, partition: partition) }
            let layout = ParallelLayout(tp: tensorParallelSize, pp: pipelineParallelSize, layerPartition: partition)
            let memory = MemoryModel(model: spec, gpu: gpuSpec, quantization: quant, utilization: gpuMemoryUtilization,
                                     maxNumBatchedTokens: maxNumBatchedTokens, maxNumSeqs: maxNumSeqs)
            let maxLen = maxModelLen ?? spec.maxPositionEmbeddings
            let plan = memory.plan(layout, maxModelLen: maxLen)
            if let why = LayoutEnumerator(memory: memory, cluster: cluster, maxModelLen: maxLen).rejection(layout, plan: plan) {
                throw CLIError("\(layout) does not fit: \(why)")
            }
            let cost = CostModel(memory: memory, layout: layout, cluster: cluster, intraNodeLink: catalog.intraNodeLink(for: gpuSpec),
                                 interNodeLink: try catalog.link(Catalog.defaultInterNodeLinkId))
            var scheduler = SchedulerConfig()
            scheduler.maxModelLen = maxLen
            scheduler.maxNumSeqs = maxNumSeqs
            scheduler.maxNumBatchedTokens = maxNumBatchedTokens
            var simulator = Simulator(costModel: cost, scheduler: scheduler, numBlocks: plan.numBlocksPerReplica)
            simulator.recordTrace = traceFile != nil && !capacitySearch
            simulator.replicas = dataParallelSize
            simulator.routing = policy
            let arrivals: ArrivalPattern
            if let maxConcurrency {
                arrivals = .closedLoop(concurrency: maxConcurrency)
            } else if requestRate == "inf" {
                arrivals = .allAtOnce
            } else if let rate = Double(requestRate), rate > 0 {
                arrivals = .poisson(rate: rate)
            } else {
                throw CLIError("--request-rate must be a positive number or inf, got '\(requestRate)'")
            }
            func lengths(_ n: Int) -> LengthDistribution {
                rangeRatio > 0 ? .uniform(min: max(1, Int(Double(n) * (1 - rangeRatio))), max: Int(Double(n) * (1 + rangeRatio))) : .fixed(n)
            }
            let workload = Workload(numRequests: numPrompts, arrivals: arrivals, promptLength: lengths(inputLen),
                                    outputLength: lengths(outputLen), seed: seed,
                                    sharedPrefix: sharedPrefixLen > 0 ? .init(length: sharedPrefixLen, count: numPrefixes) : nil)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            if capacitySearch {
                let result = try CapacitySearch(simulator: simulator, workload: workload, ttftP99Target: ttftTarget, tpotP99Target: tpotTarget).run()
                if json { print(String(decoding: try encoder.encode(result), as: UTF8.self)); return }
                print("\(spec.id) on \(world * dataParallelSize)× \(gpuSpec.id), \(layout)\(replicasText), \(quant.rawValue): highest Poisson rate meeting TTFT p99 ≤ \(ttftTarget) s and TPOT p99 ≤ \(tpotTarget) s: \(String(format: "%.2f", result.rate)) req/s")
                if let r = result.report { print(Self.text(r, stagesPerReplica: pipelineParallelSize)) }
                return
            }
            var report = try simulator.run(workload)
            if let traceFile, let slices = report.stageSlices {
                try ChromeTrace.write(Self.tracks(slices, stages: pipelineParallelSize * dataParallelSize), to: traceFile)
                report.stageSlices = nil
            }
            if json { print(String(decoding: try encoder.encode(report), as: UTF8.self)); return }
            print("\(spec.id) on \(world * dataParallelSize)× \(gpuSpec.id), \(layout)\(replicasText), \(quant.rawValue), KV \(plan.numBlocksPerReplica * 16) tokens per replica")
            print(Self.text(report, stagesPerReplica: pipelineParallelSize))
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(error)")
        }
    }

    private var replicasText: String {
        dataParallelSize > 1 ? ", DP=\(dataParallelSize) (\(routing) routing)" : ""
    }

    /// The simulated slices as one track per stage (tensor-parallel ranks of a stage move together).
    static func tracks(_ slices: [StageSlice], stages: Int) -> [TraceRecorder.Track] {
        (0..<stages).map { s in
            TraceRecorder.Track(rank: s, stage: s, tpRank: 0, slices: slices.filter { $0.stage == s }.map {
                TraceRecorder.Slice(batch: $0.batch, tokens: $0.tokens, phase: $0.decodeOnly ? "decode" : "prefill",
                                    start: UInt64($0.start * 1e9), end: UInt64($0.end * 1e9))
            })
        }
    }

    static func text(_ r: SimulationReport, stagesPerReplica: Int = 1) -> String {
        func ms(_ s: LatencySummary) -> String { String(format: "mean %8.1f  p50 %8.1f  p90 %8.1f  p99 %8.1f", s.mean * 1000, s.p50 * 1000, s.p90 * 1000, s.p99 * 1000) }
        return [
            String(format: "requests %d in %.2f s: %.2f req/s, output %.1f tok/s, total %.1f tok/s, %d preemptions",
                   r.completedRequests, r.durationSeconds, r.requestThroughput, r.outputTokenThroughput, r.totalTokenThroughput, r.numPreemptions),
            "TTFT ms  " + ms(r.ttft), "TPOT ms  " + ms(r.tpot), "ITL ms   " + ms(r.itl), "E2E ms   " + ms(r.e2e),
            String(format: "prefix cache hit rate %.1f%%", (r.prefixCacheHitRate ?? 0) * 100),
            "stage busy: " + r.stageBusyFraction.enumerated().map { i, busy in
                let stage = r.stageBusyFraction.count > stagesPerReplica
                    ? "replica \(i / stagesPerReplica) stage \(i % stagesPerReplica)" : "stage \(i)"
                return stage + String(format: " %.1f%%", busy * 100)
            }.joined(separator: ", "),
        ].joined(separator: "\n")
    }
}
