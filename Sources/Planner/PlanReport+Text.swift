import Foundation

extension PlanReport {
    /// The report as people read it: a header of per-model figures, one row per layout, the
    /// recommendation and the assumptions.
    public func table() -> String {
        var lines: [String] = []
        lines.append("\(model) on \(cluster.nodes)×\(cluster.gpusPerNode) \(gpu), \(quantization.rawValue), max-model-len \(maxModelLen), concurrency \(concurrency) (\(promptTokens) in / \(outputTokens) out tokens)")
        lines.append("weights \(gib(totalWeightBytes)) total; KV \(kvBytesPerToken) B/token, \(gib(Double(kvBytesPerRequest))) per \(maxModelLen)-token request; links: \(intraNodeLink) in node, \(interNodeLink) between nodes")
        let header = ["layout", "fit", "weights/GPU", "KV tokens/replica", "max conc", "out tok/s", "TTFT p50/p99 ms", "TPOT p50/p99 ms", "busy % per stage", "why"]
        var cells: [[String]] = [header]
        for row in rows {
            let sim = row.simulation
            cells.append([
                "TP\(row.layout.tp) PP\(row.layout.pp) DP\(row.layout.dp)" + (row.layout.ep > 1 ? " EP\(row.layout.ep)" : ""),
                row.fits ? "yes" : "no",
                gib(row.memory.weightBytesPerGPU),
                "\(row.memory.kvCapacityTokensPerReplica)",
                format(row.memory.maxConcurrency, 1),
                row.outputTokensPerSecond.map { format($0, 0) } ?? "-",
                sim.map { "\(format($0.ttft.p50 * 1000, 1))/\(format($0.ttft.p99 * 1000, 1))" } ?? "-",
                sim.map { "\(format($0.tpot.p50 * 1000, 2))/\(format($0.tpot.p99 * 1000, 2))" } ?? "-",
                sim.map { $0.stageBusyFraction.map { format($0 * 100, 0) }.joined(separator: ",") } ?? "-",
                row.reason,
            ])
        }
        let widths = (0..<header.count).map { c in cells.map { $0[c].count }.max() ?? 0 }
        for (i, row) in cells.enumerated() {
            let padded = row.enumerated().map { c, text in c == row.count - 1 ? text : text.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
            lines.append(padded.joined(separator: "  "))
            if i == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        if let r = recommendation {
            lines.append("recommended: \(r.layout) — \(r.reason)")
        } else {
            lines.append("recommended: none — no layout fits; use more or larger GPUs, a smaller --quantization, or a lower --max-model-len")
        }
        lines.append(contentsOf: assumptions.map { "assumes: " + $0 })
        return lines.joined(separator: "\n")
    }

    /// The report for programs (`--json`): stable key order, so diffs stay readable.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
