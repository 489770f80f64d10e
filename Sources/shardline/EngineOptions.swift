import ArgumentParser
import Foundation
import Distributed
import Engine

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
