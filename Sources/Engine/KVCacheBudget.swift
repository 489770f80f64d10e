/// How many KV blocks a device can hold, and the lines users read about it.
/// Pure arithmetic, shared by the real executors and the planner's simulator.
public struct KVCacheBudget: Sendable, Equatable {
    /// `--device-memory` on CPU (or the accelerator's memory).
    public var deviceMemory: Int
    /// `--gpu-memory-utilization`: the share of device memory Shardline may use.
    public var utilization: Double
    /// `--kv-cache-memory`: bytes for KV directly, overriding the utilization rule.
    public var explicitKVBytes: Int?
    public var weightBytes: Int
    /// Peak activation bytes of a maximum-size batch, measured.
    public var activationBytes: Int
    public var bytesPerBlock: Int
    public var blockSize: Int

    public init(deviceMemory: Int, utilization: Double, explicitKVBytes: Int?, weightBytes: Int,
                activationBytes: Int, bytesPerBlock: Int, blockSize: Int) {
        self.deviceMemory = deviceMemory
        self.utilization = utilization
        self.explicitKVBytes = explicitKVBytes
        self.weightBytes = weightBytes
        self.activationBytes = activationBytes
        self.bytesPerBlock = bytesPerBlock
        self.blockSize = blockSize
    }

    /// Bytes of one block: K and V, every layer, `blockSize` tokens of `kvHeads × headDim`.
    public static func bytesPerBlock(layers: Int, blockSize: Int, kvHeads: Int, headDim: Int, bytesPerElement: Int = 4) -> Int {
        2 * layers * blockSize * kvHeads * headDim * bytesPerElement
    }

    public var kvBytes: Int {
        explicitKVBytes ?? max(0, Int(Double(deviceMemory) * utilization) - weightBytes - activationBytes)
    }

    /// Usable blocks (the pool adds the null block on top).
    public var numBlocks: Int { bytesPerBlock > 0 ? kvBytes / bytesPerBlock : 0 }

    public func blocksNeeded(maxModelLen: Int) -> Int { (maxModelLen + blockSize - 1) / blockSize }

    /// The line vLLM users look for.
    public func capacityLine(maxModelLen: Int) -> String {
        let tokens = numBlocks * blockSize
        let concurrency = Double(tokens) / Double(maxModelLen)
        return "KV cache: \(tokens) tokens; max concurrency at max-model-len \(maxModelLen): \(formatted(concurrency, digits: 2))x"
    }

    /// Refuses a cache that cannot hold one max-model-len sequence, saying why and what to change.
    public func check(maxModelLen: Int) throws(EngineError) {
        let needed = blocksNeeded(maxModelLen: maxModelLen)
        guard numBlocks < needed else { return }
        let source = explicitKVBytes != nil
            ? "--kv-cache-memory \(explicitKVBytes!)"
            : "\(formatted(utilization, digits: 2)) × \(Self.human(deviceMemory)) device memory − weights − activations"
        throw .configuration(
            "not enough memory for the KV cache: weights \(Self.human(weightBytes)), activations \(Self.human(activationBytes)), " +
            "\(Self.human(bytesPerBlock)) per block of \(blockSize) tokens; one --max-model-len \(maxModelLen) sequence needs \(needed) blocks " +
            "but \(source) leaves room for \(numBlocks). Raise --gpu-memory-utilization or --device-memory, set --kv-cache-memory, or lower --max-model-len.")
    }

    public static func human(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : "\(formatted(value, digits: 2)) \(units[unit])"
    }
}

/// Fixed-point formatting without Foundation.
func formatted(_ value: Double, digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (value * scale).rounded()
    let whole = Int(scaled / scale)
    let frac = Int(abs(scaled) - abs(Double(whole)) * scale)
    guard digits > 0 else { return "\(whole)" }
    let fracText = String(frac)
    return "\(whole).\(String(repeating: "0", count: max(0, digits - fracText.count)))\(fracText)"
}
