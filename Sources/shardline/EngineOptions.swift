import ArgumentParser
import Foundation
import Distributed
import Compute
import Engine
import Models

/// vLLM's engine flags, shared by every command that runs the engine.
struct EngineOptions: ParsableArguments {
    @Option(name: .customLong("max-model-len"), help: "Maximum prompt + output tokens per request (default: the model's context length).")
    var maxModelLen: Int?

    @Option(name: .customLong("max-num-seqs"), help: "Maximum requests running at once.")
    var maxNumSeqs = 256

    @Option(name: .customLong("max-num-batched-tokens"), help: "Maximum tokens per engine step.")
    var maxNumBatchedTokens = 2048

    @Option(name: .customLong("block-size"), help: "Tokens per KV cache block.")
    var blockSize = 16

    @Flag(name: .customLong("enable-prefix-caching"), inversion: .prefixedNo, help: "Reuse KV blocks of shared prompt prefixes.")
    var prefixCaching = true

    @Option(name: .customLong("scheduling-policy"), help: "fcfs or priority.")
    var schedulingPolicy = "fcfs"

    @Option(name: .customLong("gpu-memory-utilization"), help: "Share of device memory for weights, activations and KV cache.")
    var gpuMemoryUtilization = 0.9

    @Option(name: .customLong("device-memory"), help: "Memory of one device, e.g. 8GiB (default: physical memory).")
    var deviceMemory: String?

    @Option(name: .customLong("kv-cache-memory"), help: "Bytes for the KV cache, e.g. 2GiB; overrides --gpu-memory-utilization.")
    var kvCacheMemory: String?

    @Option(name: [.customLong("tensor-parallel-size"), .customLong("tp", withSingleDash: true)],
            help: "Devices (worker processes) each layer is split over; must divide the attention heads.")
    var tensorParallelSize = 1

    @Option(name: [.customLong("pipeline-parallel-size"), .customLong("pp", withSingleDash: true)],
            help: "Pipeline stages (worker processes) the layers are split into.")
    var pipelineParallelSize = 1

    @Option(name: .customLong("pp-layer-partition"), help: "Layers per pipeline stage, e.g. 4,4,5,3 (default: an even split).")
    var ppLayerPartition: String?

    @Flag(name: .customLong("enable-expert-parallel"), help: "Mixture-of-experts models: the tensor-parallel ranks split the experts, each held whole, instead of slicing every expert.")
    var enableExpertParallel = false

    @Option(name: .customLong("trace-file"), help: "Write a Chrome trace (Perfetto) of every device's batches here at shutdown.")
    var traceFile: String?

    @Option(name: [.customLong("quantization"), .customShort("q")], help: "Quantize a safetensors model's weights at load: int8 or fp8.")
    var quantization: String?

    @Option(name: .customLong("dtype"), help: "Weight storage for safetensors models: auto, float32, float16 or bfloat16 (activations stay float32).")
    var dtype = "auto"

    /// The weight format `--quantization` and `--dtype` ask for (quantization wins).
    func weightFormat() throws -> WeightFormat {
        if let quantization {
            switch quantization.lowercased() {
            case "int8": return .int8
            case "fp8": return .fp8
            case "none": break
            default: throw CLIError("--quantization must be int8 or fp8, got '\(quantization)'")
            }
        }
        switch dtype.lowercased() {
        case "auto", "float32", "float", "fp32": return .float32
        case "float16", "half", "fp16": return .float16
        case "bfloat16", "bf16": return .bfloat16
        default: throw CLIError("--dtype must be auto, float32, float16 or bfloat16, got '\(dtype)'")
        }
    }

    func parallelConfig() throws -> ParallelConfig {
        guard tensorParallelSize >= 1 else { throw CLIError("--tensor-parallel-size must be at least 1") }
        guard pipelineParallelSize >= 1 else { throw CLIError("--pipeline-parallel-size must be at least 1") }
        return ParallelConfig(tensorParallelSize: tensorParallelSize, pipelineParallelSize: pipelineParallelSize,
                              layerPartition: try ppLayerPartition.map(Self.layerPartition), enableExpertParallel: enableExpertParallel)
    }

    /// `--pp-layer-partition` as layer counts (the engine checks them against the model).
    static func layerPartition(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
            throw CLIError("--pp-layer-partition '\(text)' is not a comma-separated list of layer counts like 4,4,5,3")
        }
        return parts.map { $0! }
    }

    /// Loads the model on the devices the flags ask for; errors become one-line CLI errors.
    /// `replicas`: data-parallel replicas on this machine (each call launches one).
    func launch(model: String, replicas: Int = 1, log: @escaping (String) -> Void) throws -> (LLMEngine, ModelBundle) {
        do {
            let config = try ModelBundle.config(path: model)
            return try LocalEngine.launch(
                path: model, cache: try cacheConfig(), scheduler: try schedulerConfig(modelMaxLen: config.maxPositionEmbeddings),
                parallel: try parallelConfig(), traceFile: traceFile, format: try weightFormat(), replicas: replicas, log: log)
        } catch let error as CLIError {
            throw error
        } catch let error as CustomStringConvertible {
            throw CLIError(error.description)
        }
    }

    func schedulerConfig(modelMaxLen: Int) throws -> SchedulerConfig {
        var c = SchedulerConfig()
        c.maxModelLen = maxModelLen ?? modelMaxLen
        c.maxNumSeqs = maxNumSeqs
        c.maxNumBatchedTokens = maxNumBatchedTokens
        c.blockSize = blockSize
        c.enablePrefixCaching = prefixCaching
        guard let policy = SchedulingPolicy(rawValue: schedulingPolicy) else {
            throw CLIError("--scheduling-policy must be one of: \(SchedulingPolicy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        c.policy = policy
        if let maxModelLen, maxModelLen > modelMaxLen {
            throw CLIError("--max-model-len \(maxModelLen) is larger than the model's context length \(modelMaxLen)")
        }
        do { try c.validate() } catch { throw CLIError(error.description) }
        return c
    }

    func cacheConfig() throws -> CacheConfig {
        var c = CacheConfig()
        guard blockSize > 0 else { throw CLIError("--block-size must be positive") }
        c.blockSize = blockSize
        guard gpuMemoryUtilization > 0, gpuMemoryUtilization <= 1 else {
            throw CLIError("--gpu-memory-utilization must be in (0, 1], got \(gpuMemoryUtilization)")
        }
        c.gpuMemoryUtilization = gpuMemoryUtilization
        c.deviceMemory = try deviceMemory.map { try parseBytes($0, flag: "--device-memory") }
        c.kvCacheMemory = try kvCacheMemory.map { try parseBytes($0, flag: "--kv-cache-memory") }
        return c
    }
}

/// "4GiB", "512MB", "1.5G", "123456": binary units for both spellings, as memory flags usually mean.
func parseBytes(_ text: String, flag: String) throws -> Int {
    let (k, m, g, t) = (1024.0, 1024.0 * 1024, 1024.0 * 1024 * 1024, 1024.0 * 1024 * 1024 * 1024)
    let units: [(String, Double)] = [("tib", t), ("gib", g), ("mib", m), ("kib", k), ("tb", t), ("gb", g), ("mb", m), ("kb", k),
                                     ("t", t), ("g", g), ("m", m), ("k", k), ("b", 1)]
    let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
    var number = Substring(lower), scale = 1.0
    for (suffix, value) in units where lower.hasSuffix(suffix) {
        number = lower.dropLast(suffix.count)
        scale = value
        break
    }
    guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite else {
        throw CLIError("\(flag) '\(text)' is not a size like 4GiB, 512MiB or 1073741824")
    }
    return Int(value * scale)
}
