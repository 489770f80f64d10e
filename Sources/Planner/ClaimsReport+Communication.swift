/// C1–C6: bytes through TP all-reduces and PP hand-offs, and link speeds, from the model's shape,
/// the catalog's links and CostModel's own collective timings.
extension ClaimsReport {
    /// Bytes of one hidden state for `tokens` tokens: what an all-reduce or a stage hand-off moves.
    static func hiddenBytes(_ model: ModelSpec, tokens: Int) -> Double {
        Double(tokens * model.hiddenSize * Overheads.activationBytesPerElement)
    }

    /// Row-parallel attention output and MLP down-projection: two all-reduces per layer.
    static func allReducesPerStep(_ model: ModelSpec) -> Int { 2 * model.numLayers }

    static func c1(_ k: ClaimsKit) throws -> Finding {
        let model = try k.model("llama-3.1-70b")
        let payload = hiddenBytes(model, tokens: 32), count = allReducesPerStep(model)
        let total = payload * Double(count)
        let cost = try k.costModel(k.memory(model, try k.gpu(anyGPU), .fp16), ParallelLayout(tp: 8), cluster: Cluster(gpusPerNode: 8))
        let time = cost.allReduce(bytes: payload) * Double(count)
        return Finding(ours: "\(format(payload / 1e3, 1)) KB × \(count) = \(format(total / 1e6, 1)) MB", verdict: all([point(payload / 1e3, 512), exact(count == 160), point(total / 1e6, 80)]),
                       why: "32 tokens × \(model.hiddenSize) × 2 B = \(Int(payload)) B (512 KiB); 2 per layer × \(model.numLayers) = \(count); total \(format(total / 1e6, 1)) MB (80 MiB, \(deviation(total / 1e6, from: 80))). A ring sends 2(TP−1)/TP of it per GPU; at TP=8 on NVLink 4 the step's all-reduces take \(format(time * 1e3, 2)) ms, mostly per-collective latency.")
    }

    static func c2(_ k: ClaimsKit) throws -> Finding {
        let model = try k.model("llama-3.1-70b")
        let payload = hiddenBytes(model, tokens: 32 * 4096), count = allReducesPerStep(model)
        let total = payload * Double(count)
        let perGPU = [2, 4, 8].map { tp in "\(format(2 * Double(tp - 1) / Double(tp) * total / 1e9, 0)) GB at TP=\(tp)" }
        let cost = try k.costModel(k.memory(model, try k.gpu(anyGPU), .fp16), ParallelLayout(tp: 8), cluster: Cluster(gpusPerNode: 8))
        let time = cost.allReduce(bytes: payload) * Double(count)
        return Finding(ours: "\(gb(total)) payload per pass (\(gib(total)))", verdict: point(total / 1e9, 300),
                       why: "32 × 4096 tokens × \(model.hiddenSize) × 2 B = \(gb(payload, 2)) per all-reduce × \(count) = \(gb(total)) (\(deviation(total / 1e9, from: 300))); each GPU sends 2(TP−1)/TP of that: \(perGPU.joined(separator: ", ")) — \(format(time, 2)) s on NVLink 4 at TP=8.")
    }

    static func c3(_ k: ClaimsKit) throws -> Finding {
        let model = try k.model("llama-3.1-70b")
        let bytes = hiddenBytes(model, tokens: 32)
        let link = try k.link("pcie-gen5-x16")
        let cost = try k.costModel(k.memory(model, try k.gpu(card96), .fp16), ParallelLayout(pp: 2), cluster: Cluster(gpusPerNode: 2), intraNodeLink: link)
        let time = cost.pipelineSendTime(afterStage: 0, tokens: 32)
        return Finding(ours: "\(format(bytes / 1e6, 3)) MB, \(format(time * 1e6, 1)) µs", verdict: all([point(bytes / 1e6, 0.5), exact(time < 1e-3)]),
                       why: "One boundary per step carries 32 × \(model.hiddenSize) × 2 B = \(Int(bytes)) B (0.5 MiB); over \(link.name) (\(format(link.bandwidthGBpsPerDirection, 1)) GB/s × \(Efficiency.link) NCCL efficiency + \(format(link.latencyMicroseconds, 0)) µs) that is \(format(time * 1e6, 1)) µs (\(format(bytes / 64e9 * 1e6, 1)) µs at a bare 64 GB/s): microseconds indeed.")
    }

    static func c4(_ k: ClaimsKit) throws -> Finding {
        let model = try k.model("llama-3.1-70b")
        let tokens = 32 * 4096
        let bytes = hiddenBytes(model, tokens: tokens)
        let memory = k.memory(model, try k.gpu(card96), .fp16)
        let times = try ["pcie-gen5-x16", "pcie-gen4-x16"].map { id in
            try k.costModel(memory, ParallelLayout(pp: 2), cluster: Cluster(gpusPerNode: 2), intraNodeLink: try k.link(id))
                .pipelineSendTime(afterStage: 0, tokens: tokens)
        }
        return Finding(ours: "\(gb(bytes, 2)) (\(gib(bytes)))", verdict: point(bytes / 1e9, 1),
                       why: "32 × 4096 tokens × \(model.hiddenSize) × 2 B = \(gb(bytes, 2)), \(deviation(bytes / 1e9, from: 1)) of the claim: the hidden state is 16-bit, so 1 GB would need 1-byte activations. It takes \(format(times[0] * 1e3, 0)) ms over PCIe Gen5 x16, \(format(times[1] * 1e3, 0)) ms over Gen4.")
    }

    /// Full duplex: each direction has the whole per-direction bandwidth; raw adds back 128b/130b encoding.
    static func pcie(_ k: ClaimsKit, _ id: String) throws -> (link: LinkSpec, perDirection: Double, both: Double, raw: Double) {
        let link = try k.link(id)
        let d = link.bandwidthGBpsPerDirection
        return (link, d, 2 * d, d * 130 / 128)
    }

    static func c5(_ k: ClaimsKit) throws -> Finding {
        let p = try pcie(k, "pcie-gen5-x16")
        let guideC = all([point(p.perDirection, 64), point(p.both, 128)])
        let guideA = point(p.both, 64)
        return Finding(ours: "\(format(p.perDirection, 1)) GB/s per direction, \(format(p.both, 0)) both", verdict: all([guideC, guideA]),
                       why: "\(p.link.name): \(format(p.raw, 1)) GB/s raw, \(format(p.perDirection, 1)) after 128b/130b, per direction, full duplex so \(format(p.both, 0)) GB/s both ways. Guide C (64 per direction, 128 both) \(says(guideC)); guide A (\"64 GB/s bidirectional\") \(says(guideA)): 64 GB/s is one direction only.")
    }

    static func c6(_ k: ClaimsKit) throws -> Finding {
        let p = try pcie(k, "pcie-gen4-x16")
        let v = point(p.both, 32)
        return Finding(ours: "\(format(p.perDirection, 1)) GB/s per direction, \(format(p.both, 0)) both", verdict: v,
                       why: "\(p.link.name): \(format(p.raw, 1)) GB/s raw, \(format(p.perDirection, 1)) per direction after encoding, \(format(p.both, 0)) both ways (\(deviation(p.both, from: 32)) vs the claim). ~32 GB/s is the \(point(p.perDirection, 32) == .agrees ? "per-direction" : "wrong") figure, mislabelled bidirectional.")
    }
}
