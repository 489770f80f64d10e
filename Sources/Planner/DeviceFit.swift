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
    /// A decode step of `midDecodeRows` sequences (between 1 and `batchDecodeRows`): the fourth
    /// point, which fits how much of a GEMM's compute hides under its weight streaming
    /// (`GPUSpec.gemmSerialFraction`). Absent: they add.
    public var midDecodeStepSeconds: Double?
    public var midDecodeRows: Int?

    public init(decodeStepSeconds: Double, prefillSeconds: Double, prefillTokens: Int,
                batchDecodeStepSeconds: Double? = nil, batchDecodeRows: Int? = nil,
                midDecodeStepSeconds: Double? = nil, midDecodeRows: Int? = nil) {
        self.decodeStepSeconds = decodeStepSeconds
        self.prefillSeconds = prefillSeconds
        self.prefillTokens = prefillTokens
        self.batchDecodeStepSeconds = batchDecodeStepSeconds
        self.batchDecodeRows = batchDecodeRows
        self.midDecodeStepSeconds = midDecodeStepSeconds
        self.midDecodeRows = midDecodeRows
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
    ///
    /// With a mid-sized decode step as well, the share of a GEMM's smaller time (compute or
    /// streaming) that adds to the larger is chosen from 0, 0.05, …, 1 as the one whose fit
    /// (three rates through the other three timings, by Newton's method: the model is piecewise
    /// linear in them) best reproduces that step. Otherwise it is `serialFraction`.
    public static func fit(_ t: MeasuredTimings, spec: ModelSpec, quantization: Quantization, template: GPUSpec, link: LinkSpec,
                           rowSeconds: Double = 0, serialFraction: Double = 1) throws -> GPUSpec {
        let unit = 1e9, huge = 1e30
        var points: [(batch: [BatchSlice], seconds: Double)] = [
            ([BatchSlice(newTokens: 1, contextLength: 17, samples: true)], t.decodeStepSeconds),
            ([BatchSlice(newTokens: t.prefillTokens, contextLength: t.prefillTokens, samples: true)], t.prefillSeconds),
        ]
        if let seconds = t.batchDecodeStepSeconds, let rows = t.batchDecodeRows, rows > 1 {
            points.append((Array(repeating: BatchSlice(newTokens: 1, contextLength: 17, samples: true), count: rows), seconds))
        }
        func device(bandwidth: Double, flops: Double, row: Double, serial: Double = serialFraction) -> GPUSpec {
            var gpu = template
            gpu.measured = true
            gpu.gemmSerialFraction = serial
            gpu.memoryBandwidthGBps = bandwidth / 1e9
            gpu.fp16DenseTFLOPS = flops / 1e12
            gpu.bf16DenseTFLOPS = flops / 1e12
            gpu.sampledRowSeconds = row
            return gpu
        }
        func costModel(bandwidth: Double, flops: Double, row: Double, serial: Double = serialFraction) -> CostModel {
            let memory = MemoryModel(model: spec, gpu: device(bandwidth: bandwidth, flops: flops, row: row, serial: serial),
                                     quantization: quantization, maxNumBatchedTokens: t.prefillTokens)
            return CostModel(memory: memory, layout: ParallelLayout(tp: 1, pp: 1), cluster: Cluster(gpusPerNode: 1),
                             intraNodeLink: link, interNodeLink: link)
        }
        func times(bandwidth: Double, flops: Double, row: Double) -> [Double] {
            let cost = costModel(bandwidth: bandwidth, flops: flops, row: row)
            return points.map { cost.stageTimes($0.batch)[0] }
        }
        // Each timing = bytes·x + flops·y + rows·z + fixed, with x = 1e9 / bandwidth, y = 1e9 / peak, z = row seconds
        // (exactly so while the GEMMs' two times add; the Newton fit below handles the others).
        let fixed = times(bandwidth: huge, flops: huge, row: 0)
        let byBytes = zip(times(bandwidth: unit, flops: huge, row: 0), fixed).map { $0 - $1 }
        let byFlops = zip(times(bandwidth: huge, flops: unit, row: 0), fixed).map { $0 - $1 }
        let byRow = zip(times(bandwidth: huge, flops: huge, row: 1), fixed).map { $0 - $1 }
        let rest = points.indices.map { points[$0].seconds - fixed[$0] }
        let solution = points.count == 3
            ? solve3([byBytes, byFlops, byRow], rest)
            : solve2([byBytes, byFlops], [rest[0] - rowSeconds * byRow[0], rest[1] - rowSeconds * byRow[1]]).map { $0 + [rowSeconds] }
        // One more sampled decode row at the fitted rates: it must cost something.
        func addedRow(_ s: [Double], serial: Double) -> Double {
            let cost = costModel(bandwidth: unit / s[0], flops: unit / s[1], row: s[2], serial: serial)
            let row = BatchSlice(newTokens: 1, contextLength: 17, samples: true)
            return cost.stageTimes([row, row])[0] - cost.stageTimes([row])[0]
        }
        /// x, y, z reproducing the timings at this serial share: Newton's method with a
        /// finite-difference Jacobian, from the additive fit.
        func newton(_ start: [Double], serial: Double) -> [Double]? {
            var p = start
            func residual(_ p: [Double]) -> [Double] {
                let cost = costModel(bandwidth: unit / p[0], flops: unit / p[1], row: p[2], serial: serial)
                return points.map { cost.stageTimes($0.batch)[0] / $0.seconds - 1 }
            }
            for _ in 0..<40 {
                guard p[0] > 0, p[1] > 0 else { return nil }
                let r = residual(p)
                if r.allSatisfy({ abs($0) < 1e-10 }) { return p }
                let columns = p.indices.map { j -> [Double] in
                    var q = p
                    let h = max(abs(p[j]) * 1e-6, 1e-12)
                    q[j] += h
                    return zip(residual(q), r).map { ($0 - $1) / h }
                }
                let step = points.count == 3 ? solve3(columns, r.map { -$0 }) : solve2(Array(columns.prefix(2)), r.map { -$0 }).map { $0 + [0] }
                guard let step else { return nil }
                p = zip(p, step).map { $0 + $1 }
            }
            return nil
        }
        var best = solution.map { (rates: $0, serial: 1.0) }
        if serialFraction != 1, let start = solution {
            best = newton(start, serial: serialFraction).map { (rates: $0, serial: serialFraction) }
        }
        if let seconds = t.midDecodeStepSeconds, let rows = t.midDecodeRows, rows > 1, points.count == 3, let start = solution {
            let mid = Array(repeating: BatchSlice(newTokens: 1, contextLength: 17, samples: true), count: rows)
            var bestError = Double.infinity
            for twentieths in stride(from: 20, through: 0, by: -1) {  // 1, 0.95, ..., 0: ties keep the larger share
                let serial = Double(twentieths) / 20
                guard let rates = newton(start, serial: serial), rates[0] > 0, rates[1] > 0, addedRow(rates, serial: serial) > 0 else { continue }
                let model = costModel(bandwidth: unit / rates[0], flops: unit / rates[1], row: rates[2], serial: serial)
                let error = abs(model.stageTimes(mid)[0] / seconds - 1)
                if error < bestError - 1e-9 { (bestError, best) = (error, (rates, serial)) }
            }
        }
        guard let (s, serial) = best, s[0] > 0, s[1] > 0, addedRow(s, serial: serial) > 0 else {
            let batch = points.count == 3 ? String(format: " and a %.1f ms %d-row decode step", points[2].seconds * 1e3, t.batchDecodeRows ?? 0) : ""
            throw DeviceFitError(description: String(format: "cannot fit a device to a %.1f ms decode step, a %.0f ms prefill", t.decodeStepSeconds * 1e3, t.prefillSeconds * 1e3)
                                 + batch + " (no positive bandwidth, peak and cost per decode row reproduce them)")
        }
        return device(bandwidth: unit / s[0], flops: unit / s[1], row: s[2], serial: serial)
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
