/// Timings of a model run by the engine on one device: what `DeviceFit` turns into rates.
public struct MeasuredTimings: Codable, Sendable {
    /// One decode step of one sequence (short context).
    public var decodeStepSeconds: Double
    /// One prefill of `prefillTokens` tokens.
    public var prefillSeconds: Double
    public var prefillTokens: Int
    /// One decode step of `batchDecodeRows` sequences at once (short contexts): the third point,
    /// which fits the per-row cost (`GPUSpec.sampledRowSeconds`). Absent: that cost is taken as given.
    public var batchDecodeStepSeconds: Double?
    public var batchDecodeRows: Int?

    public init(decodeStepSeconds: Double, prefillSeconds: Double, prefillTokens: Int,
                batchDecodeStepSeconds: Double? = nil, batchDecodeRows: Int? = nil) {
        self.decodeStepSeconds = decodeStepSeconds
        self.prefillSeconds = prefillSeconds
        self.prefillTokens = prefillTokens
        self.batchDecodeStepSeconds = batchDecodeStepSeconds
        self.batchDecodeRows = batchDecodeRows
    }
}

public struct DeviceFitError: Error, CustomStringConvertible {
    public let description: String
}

/// A measured device (`shardline plan --profile-device --model`): the rates under which the cost
/// model reproduces what the engine measured, so the simulator runs on the engine's own speed.
public enum DeviceFit {
    /// Memory bandwidth, 16-bit TFLOPS and per-sampled-row seconds under which the cost model
    /// gives the measured timings on this model. A measured device's step time is bytes /
    /// bandwidth + FLOPs / peak + sampled rows × row seconds (plus fixed costs): linear in
    /// 1 / bandwidth, 1 / peak and the row seconds, so the cost model is evaluated at basis points
    /// to read off each timing's coefficients and the linear system is solved. With a batch decode
    /// step all three are fitted; without one the row seconds are `rowSeconds` and the other two
    /// are fitted to the batch-1 decode step and the prefill.
    ///
    /// Why a third point: a decode row also samples over the whole vocabulary and runs the LM
    /// head, whose kernel need not run at the layers' prefill rate. The row cost comes out
    /// negative where the head runs faster per FLOP than the layers: this VM (Zen 4), default
    /// model, since the Q8_0 head kernel dots 4 rows per weight load: a 32-row step took 136 ms
    /// where the prefill's rate alone said 182 (session 7). A sampled row must still cost time.
    public static func fit(_ t: MeasuredTimings, spec: ModelSpec, quantization: Quantization, template: GPUSpec, link: LinkSpec,
                           rowSeconds: Double = 0) throws -> GPUSpec {
        let unit = 1e9, huge = 1e30
        var points: [(batch: [BatchSlice], seconds: Double)] = [
            ([BatchSlice(newTokens: 1, contextLength: 17, samples: true)], t.decodeStepSeconds),
            ([BatchSlice(newTokens: t.prefillTokens, contextLength: t.prefillTokens, samples: true)], t.prefillSeconds),
        ]
        if let seconds = t.batchDecodeStepSeconds, let rows = t.batchDecodeRows, rows > 1 {
            points.append((Array(repeating: BatchSlice(newTokens: 1, contextLength: 17, samples: true), count: rows), seconds))
        }
        func device(bandwidth: Double, flops: Double, row: Double) -> GPUSpec {
            var gpu = template
            gpu.measured = true
            gpu.memoryBandwidthGBps = bandwidth / 1e9
            gpu.fp16DenseTFLOPS = flops / 1e12
            gpu.bf16DenseTFLOPS = flops / 1e12
            gpu.sampledRowSeconds = row
            return gpu
        }
        func costModel(bandwidth: Double, flops: Double, row: Double) -> CostModel {
            let memory = MemoryModel(model: spec, gpu: device(bandwidth: bandwidth, flops: flops, row: row), quantization: quantization,
                                     maxNumBatchedTokens: t.prefillTokens)
            return CostModel(memory: memory, layout: ParallelLayout(tp: 1, pp: 1), cluster: Cluster(gpusPerNode: 1),
                             intraNodeLink: link, interNodeLink: link)
        }
        func times(bandwidth: Double, flops: Double, row: Double) -> [Double] {
            let cost = costModel(bandwidth: bandwidth, flops: flops, row: row)
            return points.map { cost.stageTimes($0.batch)[0] }
        }
        // Each timing = bytes·x + flops·y + rows·z + fixed, with x = 1e9 / bandwidth, y = 1e9 / peak, z = row seconds.
        let fixed = times(bandwidth: huge, flops: huge, row: 0)
        let byBytes = zip(times(bandwidth: unit, flops: huge, row: 0), fixed).map { $0 - $1 }
        let byFlops = zip(times(bandwidth: huge, flops: unit, row: 0), fixed).map { $0 - $1 }
        let byRow = zip(times(bandwidth: huge, flops: huge, row: 1), fixed).map { $0 - $1 }
        let rest = points.indices.map { points[$0].seconds - fixed[$0] }
        let solution = points.count == 3
            ? solve3([byBytes, byFlops, byRow], rest)
            : solve2([byBytes, byFlops], [rest[0] - rowSeconds * byRow[0], rest[1] - rowSeconds * byRow[1]]).map { $0 + [rowSeconds] }
        // One more sampled decode row at the fitted rates: it must cost something.
        func addedRow(_ s: [Double]) -> Double {
            let cost = costModel(bandwidth: unit / s[0], flops: unit / s[1], row: s[2])
            let row = BatchSlice(newTokens: 1, contextLength: 17, samples: true)
            return cost.stageTimes([row, row])[0] - cost.stageTimes([row])[0]
        }
        guard let s = solution, s[0] > 0, s[1] > 0, addedRow(s) > 0 else {
            let batch = points.count == 3 ? String(format: " and a %.1f ms %d-row decode step", points[2].seconds * 1e3, t.batchDecodeRows ?? 0) : ""
            throw DeviceFitError(description: String(format: "cannot fit a device to a %.1f ms decode step, a %.0f ms prefill", t.decodeStepSeconds * 1e3, t.prefillSeconds * 1e3)
                                 + batch + " (no positive bandwidth, peak and cost per decode row reproduce them)")
        }
        return device(bandwidth: unit / s[0], flops: unit / s[1], row: s[2])
    }

    /// x with Σ_j columns[j][i]·x[j] = rhs[i], by Cramer's rule; nil when singular.
    static func solve2(_ c: [[Double]], _ r: [Double]) -> [Double]? {
        let det = c[0][0] * c[1][1] - c[1][0] * c[0][1]
        guard det != 0 else { return nil }
        return [(r[0] * c[1][1] - c[1][0] * r[1]) / det, (c[0][0] * r[1] - r[0] * c[0][1]) / det]
    }

    static func solve3(_ c: [[Double]], _ r: [Double]) -> [Double]? {
        func det(_ m: [[Double]]) -> Double {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[1][0] * (m[0][1] * m[2][2] - m[0][2] * m[2][1])
                + m[2][0] * (m[0][1] * m[1][2] - m[0][2] * m[1][1])
        }
        let d = det(c)
        guard d != 0 else { return nil }
        return (0..<3).map { j in
            var m = c
            m[j] = r
            return det(m) / d
        }
    }
}
