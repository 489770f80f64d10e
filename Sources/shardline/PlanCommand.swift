import ArgumentParser
import Compute
import Foundation
import Models
import Planner

/// `shardline plan`: how many GPUs, which layout, what throughput — from the engine's own
/// scheduler run against a hardware cost model.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Memory, fit and simulated throughput of every TP/PP/DP/EP layout of a model on GPUs.")

    @Option(name: .long, help: "A catalog model id (e.g. llama-3.1-70b) or a Hugging Face config.json path; with --profile-device, a model file the engine runs.")
    var model: String?

    @Option(name: .long, help: "A catalog GPU id (e.g. h100-sxm).")
    var gpu: String?

    @Option(name: .customLong("gpu-file"), help: "A GPU spec JSON file instead of --gpu (e.g. written by --profile-device).")
    var gpuFile: String?

    @Flag(name: .customLong("profile-device"), help: "Measure this machine as a device with Shardline's kernels and print it as a GPU spec (JSON) for --gpu-file.")
    var profileDevice = false

    @Flag(name: .customLong("profile-timings"), help: .hidden)
    var profileTimings = false

    @Option(name: .customLong("device-memory"), help: "Memory of the profiled host (default: physical memory).")
    var deviceMemory: String?

    @Option(name: .customLong("devices-per-host"), help: "Worker processes (devices) the host is split into: each gets this share of its memory, bandwidth and compute.")
    var devicesPerHost = 1

    @Flag(name: .customLong("check-claims"), help: "Check the published claims in the catalog (seed figures) and print a verdict for each.")
    var checkClaims = false

    @Option(name: .long, help: "Total GPUs on one node (or use --nodes with --gpus-per-node).")
    var gpus: Int?

    @Option(name: .long, help: "Nodes.")
    var nodes: Int?

    @Option(name: .customLong("gpus-per-node"), help: "GPUs per node.")
    var gpusPerNode: Int?

    @Option(name: .long, help: "Weight precision: fp16, bf16, fp8, int8 or q4.")
    var quantization = "bf16"

    @Option(name: .customLong("max-model-len"), help: "Maximum prompt + output tokens (default: the model's).")
    var maxModelLen: Int?

    @Option(name: .long, help: "Requests in flight over all replicas.")
    var concurrency = 64

    @Option(name: .customLong("gpu-memory-utilization"), help: "Share of GPU memory for weights, activations and KV.")
    var gpuMemoryUtilization = 0.9

    @Option(name: .customLong("input-len"), help: "Prompt tokens of the simulated requests.")
    var inputLen = 512

    @Option(name: .customLong("output-len"), help: "Output tokens of the simulated requests.")
    var outputLen = 128

    @Option(name: .customLong("inter-node-link"), help: "Catalog link id between nodes.")
    var interNodeLink = Catalog.defaultInterNodeLinkId

    @Flag(name: .long, help: "Print JSON instead of tables.")
    var json = false

    func run() throws {
        if profileDevice {
            let memory = try deviceMemory.map { try parseBytes($0, flag: "--device-memory") } ?? Int(ProcessInfo.processInfo.physicalMemory)
            guard devicesPerHost >= 1 else { throw CLIError("--devices-per-host must be at least 1") }
            if profileTimings {
                guard let model else { throw CLIError("--profile-timings needs --model") }
                print(String(decoding: try JSONEncoder().encode(try ModelDeviceProfile.timings(model: model)), as: UTF8.self))
                return
            }
            let generic = try DeviceProfileSpec.json(DeviceProfile.measure(memoryBytes: memory), devicesPerHost: devicesPerHost)
            guard let model else { print(generic); return }
            // With a model: rates fitted to that model's decode step and prefill on this machine.
            guard let quant = Quantization(rawValue: quantization) else { throw CLIError("--quantization must be one of \(Quantization.allCases.map(\.rawValue).joined(separator: ", "))") }
            let bundle: ModelBundle
            do { bundle = try ModelBundle.load(path: model) } catch { throw CLIError("\(error)") }
            let timings = try ModelDeviceProfile.measure(model: model, devices: devicesPerHost)
            // Alone: one device busy while the others idle (pipeline stages of a lone request).
            let alone = devicesPerHost > 1 ? try ModelDeviceProfile.measure(model: model, devices: devicesPerHost, busy: 1) : nil
            let template = try JSONDecoder().decode(GPUSpec.self, from: Data(generic.utf8))
            var spec: GPUSpec
            do {
                let modelSpec = try ModelSpec(bundle: bundle, path: model), link = try Catalog.load().intraNodeLink(for: template)
                spec = try DeviceFit.fit(timings, spec: modelSpec, quantization: quant, template: template, link: link)
                if let alone {
                    // Alone rates serve a lone request's batch (one sampled row): fitted to the alone
                    // batch-1 step and prefill, with the shared fit's row cost.
                    let lone = MeasuredTimings(decodeStepSeconds: alone.decodeStepSeconds, prefillSeconds: alone.prefillSeconds,
                                               prefillTokens: alone.prefillTokens)
                    let fitted = try DeviceFit.fit(lone, spec: modelSpec, quantization: quant, template: template, link: link,
                                                   rowSeconds: spec.sampledRowSeconds ?? 0, serialFraction: spec.gemmSerialFraction ?? 1)
                    spec.alone = .init(memoryBandwidthGBps: fitted.memoryBandwidthGBps, denseTFLOPS: fitted.bf16DenseTFLOPS ?? 0)
                }
            } catch let e as DeviceFitError { throw CLIError(e.description) }
            // Devices of this host hand batches, activations and tokens to each other.
            if devicesPerHost > 1 { spec.parkedHandoffSeconds = try BenchCollectivesCommand.measureHandoff() }
            spec.note = String(format: "rates fitted to %@ (--quantization %@) run by this engine, %d device(s) at once: decode step %.1f ms at batch 1, %.1f ms at batch %d, %.1f ms at batch %d, %d-token prefill %.0f ms; GEMM serial share %.2f; no efficiency factor applies (measured)",
                                 URL(fileURLWithPath: model).lastPathComponent, quant.rawValue, devicesPerHost,
                                 timings.decodeStepSeconds * 1e3, (timings.midDecodeStepSeconds ?? 0) * 1e3, timings.midDecodeRows ?? 0,
                                 (timings.batchDecodeStepSeconds ?? 0) * 1e3, timings.batchDecodeRows ?? 0,
                                 timings.prefillTokens, timings.prefillSeconds * 1e3, spec.gemmSerialFraction ?? 1)
                + (alone.map { String(format: "; alone (the others idle): %.1f ms, %.0f ms", $0.decodeStepSeconds * 1e3, $0.prefillSeconds * 1e3) } ?? "")
                + (spec.parkedHandoffSeconds.map { String(format: "; hand-off to a parked device %.0f µs", $0 * 1e6) } ?? "")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(spec), as: UTF8.self))
            return
        }
        if checkClaims {
            do {
                let checks = try ClaimsReport.run(catalog: try Catalog.load())
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    print(String(decoding: try encoder.encode(checks), as: UTF8.self))
                } else {
                    print(ClaimsReport.table(checks))
                }
            } catch { throw CLIError("\(error)") }
            return
        }
        guard let model, gpu != nil || gpuFile != nil else { throw CLIError("give --model and --gpu or --gpu-file (or --check-claims, --profile-device)") }
        let cluster: Cluster
        switch (gpus, nodes, gpusPerNode) {
        case (let n?, nil, nil): cluster = Cluster(nodes: 1, gpusPerNode: n)
        case (nil, let k?, let n?): cluster = Cluster(nodes: k, gpusPerNode: n)
        default: throw CLIError("give --gpus N, or --nodes K with --gpus-per-node N")
        }
        guard cluster.nodes > 0, cluster.gpusPerNode > 0 else { throw CLIError("--gpus, --nodes and --gpus-per-node must be positive") }
        guard let quant = Quantization(rawValue: quantization.lowercased()) else {
            throw CLIError("--quantization must be one of \(Quantization.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        do {
            let catalog = try Catalog.load()
            let spec = try catalog.model(idOrConfigPath: model)
            let gpuSpec = try catalog.gpu(id: gpu, file: gpuFile)
            var request = PlanRequest(model: spec, gpu: gpuSpec, cluster: cluster, interNodeLink: try catalog.link(interNodeLink))
            request.quantization = quant
            request.maxModelLen = maxModelLen
            request.concurrency = concurrency
            request.utilization = gpuMemoryUtilization
            request.promptTokens = inputLen
            request.outputTokens = outputLen
            let report = try Planner(catalog: catalog).plan(request)
            print(json ? try report.json() : report.table())
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(error)")
        }
    }
}
