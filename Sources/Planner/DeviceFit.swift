/// Timings of a model run by the engine on one device: what `DeviceFit` turns into rates.
public struct MeasuredTimings: Codable, Sendable {
    /// One decode step of one sequence (short context).
    public var decodeStepSeconds: Double
    /// One prefill of `prefillTokens` tokens.
    public var prefillSeconds: Double
    public var prefillTokens: Int

    public init(decodeStepSeconds: Double, prefillSeconds: Double, prefillTokens: Int) {
        self.decodeStepSeconds = decodeStepSeconds
        self.prefillSeconds = prefillSeconds
        self.prefillTokens = prefillTokens
    }
}

public struct DeviceFitError: Error, CustomStringConvertible {
    public let description: String
}

/// A measured device (`shardline plan --profile-device --model`): the rates under which the cost
/// model reproduces what the engine measured, so the simulator runs on the engine's own speed.
public enum DeviceFit {
    /// Memory bandwidth and 16-bit TFLOPS under which the cost model gives the measured decode
    /// step and prefill times on this model. A measured device's GEMM time is bytes / bandwidth +
    /// FLOPs / peak (plus fixed costs), linear in 1 / bandwidth and 1 / peak, so the cost model is
    /// evaluated at three points to read off the bytes, FLOPs and fixed part of each timing, and
    /// the two equations are solved.
    public static func fit(_ t: MeasuredTimings, spec: ModelSpec, quantization: Quantization, template: GPUSpec, link: LinkSpec) throws -> GPUSpec {
        let unit = 1e9, huge = 1e30
        func times(bandwidth: Double, flops: Double) -> (decode: Double, prefill: Double) {
            var gpu = template
            gpu.measured = true
            gpu.memoryBandwidthGBps = bandwidth / 1e9
            gpu.fp16DenseTFLOPS = flops / 1e12
            gpu.bf16DenseTFLOPS = flops / 1e12
            let memory = MemoryModel(model: spec, gpu: gpu, quantization: quantization, maxNumBatchedTokens: t.prefillTokens)
            let cost = CostModel(memory: memory, layout: ParallelLayout(tp: 1, pp: 1), cluster: Cluster(gpusPerNode: 1),
                                 intraNodeLink: link, interNodeLink: link)
            return (cost.stageTimes([BatchSlice(newTokens: 1, contextLength: 17, samples: true)])[0],
                    cost.stageTimes([BatchSlice(newTokens: t.prefillTokens, contextLength: t.prefillTokens, samples: true)])[0])
        }
        let fixed = times(bandwidth: huge, flops: huge)
        let byBytes = times(bandwidth: unit, flops: huge), byFlops = times(bandwidth: huge, flops: unit)
        // decode = bd·x + fd·y + cd, prefill = bp·x + fp·y + cp, with x = 1e9 / bandwidth, y = 1e9 / peak.
        let (bd, fd, cd) = (byBytes.decode - fixed.decode, byFlops.decode - fixed.decode, fixed.decode)
        let (bp, fp, cp) = (byBytes.prefill - fixed.prefill, byFlops.prefill - fixed.prefill, fixed.prefill)
        let rd = t.decodeStepSeconds - cd, rp = t.prefillSeconds - cp
        let det = bd * fp - fd * bp
        let x = (rd * fp - fd * rp) / det, y = (bd * rp - rd * bp) / det
        guard det != 0, x > 0, y > 0 else {
            throw DeviceFitError(description: String(format: "cannot fit a device to a %.1f ms decode step and a %.0f ms prefill (no positive bandwidth and peak reproduce both)",
                                                     t.decodeStepSeconds * 1e3, t.prefillSeconds * 1e3))
        }
        var gpu = template
        gpu.measured = true
        gpu.memoryBandwidthGBps = unit / x / 1e9
        gpu.fp16DenseTFLOPS = unit / y / 1e12
        gpu.bf16DenseTFLOPS = unit / y / 1e12
        return gpu
    }
}
