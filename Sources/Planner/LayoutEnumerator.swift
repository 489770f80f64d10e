/// Every (TP, PP, DP, EP) with TP·PP·DP = GPUs, checked for shape and memory. Expert parallel is
/// vLLM's rule: off (experts TP-sharded) or on with EP = TP·DP (each GPU of a stage holds
/// experts/EP whole experts; attention stays TP within a replica). Only MoE models get EP rows.
public struct LayoutEnumerator: Sendable {
    public var memory: MemoryModel
    public var cluster: Cluster
    public var maxModelLen: Int

    public init(memory: MemoryModel, cluster: Cluster, maxModelLen: Int) {
        self.memory = memory
        self.cluster = cluster
        self.maxModelLen = maxModelLen
    }

    public func layouts() -> [ParallelLayout] {
        let n = cluster.totalGPUs
        var result: [ParallelLayout] = []
        for tp in divisors(of: n) {
            for pp in divisors(of: n / tp) {
                let dp = n / (tp * pp)
                result.append(ParallelLayout(tp: tp, pp: pp, dp: dp, ep: 1))
                if memory.model.isMoE && tp * dp > 1 {
                    result.append(ParallelLayout(tp: tp, pp: pp, dp: dp, ep: tp * dp))
                }
            }
        }
        return result
    }

    /// Why `layout` cannot run, or nil when it can. Shape rules first (they hold whatever the
    /// memory), then memory, in the words a user needs to change something.
    public func rejection(_ layout: ParallelLayout, plan: MemoryPlan) -> String? {
        let m = memory.model
        if m.numAttentionHeads % layout.tp != 0 {
            return "TP=\(layout.tp) does not divide the \(m.numAttentionHeads) attention heads"
        }
        if !m.usesMLA && m.numKVHeads % layout.tp != 0 && layout.tp % m.numKVHeads != 0 {
            return "TP=\(layout.tp) neither divides nor is a multiple of the \(m.numKVHeads) KV heads"
        }
        if layout.pp > m.numLayers {
            return "PP=\(layout.pp) exceeds the \(m.numLayers) layers"
        }
        if layout.ep > (m.numExperts ?? 1) {
            return "EP=\(layout.ep) exceeds the \(m.numExperts ?? 1) experts"
        }
        if let full = plan.stages.first(where: { $0.weightBytes + $0.activationBytes > plan.usableBytesPerGPU }) {
            return "weights \(gib(full.weightBytes)) + activations \(gib(full.activationBytes)) per GPU exceed the usable \(gib(plan.usableBytesPerGPU)) (\(format(memory.utilization, 2)) of \(gib(Double(memory.gpu.memoryBytes))))"
        }
        if plan.kvCapacityTokensPerReplica < maxModelLen {
            return "KV cache holds \(plan.kvCapacityTokensPerReplica) tokens, less than one --max-model-len \(maxModelLen) sequence"
        }
        return nil
    }

    private func divisors(of n: Int) -> [Int] { (1...max(1, n)).filter { n % $0 == 0 } }
}

func gib(_ bytes: Double) -> String { "\(format(bytes / Double(1 << 30), 1)) GiB" }

/// Fixed-point text without Foundation's locale-dependent formatting.
func format(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let frac = Int(scaled - Double(whole) * scale)
    let sign = value < 0 && scaled > 0 ? "-" : ""
    guard digits > 0 else { return "\(sign)\(whole)" }
    let text = String(frac)
    return "\(sign)\(whole).\(String(repeating: "0", count: digits - text.count))\(text)"
}
