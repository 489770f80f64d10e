import Engine
import Testing
@testable import Planner

@Suite struct SimulatorTests {
    func simulator(_ model: String = "llama-3.1-8b", tp: Int = 1, pp: Int = 1, maxModelLen: Int = 4096, numBlocks: Int = 20_000) -> Simulator {
        var config = SchedulerConfig()
        config.maxModelLen = maxModelLen
        return Simulator(costModel: Fixtures.costModel(model, tp: tp, pp: pp), scheduler: config, numBlocks: numBlocks)
    }

    @Test func countsEqualWhatWasRequested() throws {
        let workload = Workload(numRequests: 40, arrivals: .poisson(rate: 20), promptLength: .uniform(min: 16, max: 300),
                                outputLength: .uniform(min: 4, max: 40), seed: 7)
        let lengths = workload.lengths()
        let report = try simulator().run(workload)
        #expect(report.completedRequests == 40)
        #expect(report.promptTokens == lengths.reduce(0) { $0 + $1.prompt })
        #expect(report.outputTokens == lengths.reduce(0) { $0 + $1.output })
        #expect(report.ttft.count == 40 && report.e2e.count == 40)
        #expect(report.itl.count == report.outputTokens - 40)
    }

    @Test func countsHoldUnderPreemption() throws {
        // 64 blocks of 16 = 1024 tokens for 32 requests of up to 600 tokens: the scheduler must preempt.
        let workload = Workload(numRequests: 32, arrivals: .allAtOnce, promptLength: .fixed(400), outputLength: .fixed(200))
        let report = try simulator(maxModelLen: 1024, numBlocks: 64).run(workload)
        #expect(report.completedRequests == 32)
        #expect(report.outputTokens == 32 * 200)
        #expect(report.numPreemptions > 0)
    }

    @Test func onePipelinedRequestKeepsEachStageHalfBusy() throws {
        let workload = Workload(numRequests: 1, arrivals: .allAtOnce, promptLength: .fixed(64), outputLength: .fixed(64))
        let report = try simulator(pp: 2).run(workload)
        #expect(report.stageBusyFraction.count == 2)
        for busy in report.stageBusyFraction { #expect(busy > 0.4 && busy < 0.6, "\(report.stageBusyFraction)") }
    }

    @Test func atPP4OneRequestKeepsEachStageAQuarterBusyAnd64KeepThemAbove90Percent() throws {
        let one = Workload(numRequests: 1, arrivals: .allAtOnce, promptLength: .fixed(64), outputLength: .fixed(64))
        let lone = try simulator("llama-3.1-70b", tp: 2, pp: 4).run(one)
        #expect(lone.stageBusyFraction.count == 4)
        for busy in lone.stageBusyFraction { #expect(busy > 0.2 && busy < 0.3, "\(lone.stageBusyFraction)") }
        let many = Workload(numRequests: 64, arrivals: .allAtOnce, promptLength: .fixed(128), outputLength: .fixed(128))
        let busy = try simulator("llama-3.1-70b", tp: 2, pp: 4).run(many)
        for b in busy.stageBusyFraction { #expect(b > 0.9, "\(busy.stageBusyFraction)") }
    }

    @Test func manyPipelinedRequestsKeepEveryStageBusy() throws {
        // 70B over TP=4 × PP=2: the LM head is ~3% of a stage, so both stages stay balanced.
        let workload = Workload(numRequests: 64, arrivals: .allAtOnce, promptLength: .fixed(128), outputLength: .fixed(128))
        let report = try simulator("llama-3.1-70b", tp: 4, pp: 2).run(workload)
        for busy in report.stageBusyFraction { #expect(busy > 0.9, "\(report.stageBusyFraction)") }
    }

    @Test func poissonArrivalsAreReproducible() throws {
        let a = Workload(numRequests: 50, arrivals: .poisson(rate: 5), promptLength: .uniform(min: 10, max: 100),
                         outputLength: .fixed(8), seed: 42)
        var b = a
        #expect(a.arrivalTimes() == b.arrivalTimes())
        let first = try simulator().run(a), second = try simulator().run(b)
        #expect(first == second)
        b.seed = 43
        #expect(a.arrivalTimes() != b.arrivalTimes())
        // Mean gap ≈ 1/rate.
        let times = a.arrivalTimes()
        #expect(abs(times.last! / Double(times.count - 1) - 0.2) < 0.08)
    }

    @Test func decodeIsBoundByWeightStreaming() {
        // One decode token of 8B on H100: ~16 GB of weights at 3.35 TB/s × 0.8 ≈ 6 ms, plus 1 ms overhead.
        let cost = Fixtures.costModel()
        let t = cost.stageTimes([BatchSlice(newTokens: 1, contextLength: 100, samples: true)])[0]
        #expect(t > 0.005 && t < 0.009, "\(t)")
        // A 2048-token prefill is compute-bound: ~2 × 8e9 × 2048 FLOPs at 989 TFLOPS × 0.6 ≈ 55 ms.
        let p = cost.stageTimes([BatchSlice(newTokens: 2048, contextLength: 2048, samples: true)])[0]
        #expect(p > 0.04 && p < 0.08, "\(p)")
    }

    @Test func measuredDeviceAddsStreamAndCompute() {
        // A datasheet GPU overlaps weight streaming and math (max); a measured CPU device, whose
        // cores do both, pays their sum, with no efficiency factor on either.
        var gpu = Fixtures.gpu("h100-sxm")
        let flops = 2e12, bytes = 4e9
        let sheet = CostModel(memory: MemoryModel(model: Fixtures.model("llama-3.1-8b"), gpu: gpu, quantization: .bf16),
                              layout: ParallelLayout(tp: 1, pp: 1), cluster: Cluster(gpusPerNode: 1),
                              intraNodeLink: Fixtures.catalog.intraNodeLink(for: gpu), interNodeLink: Fixtures.catalog.intraNodeLink(for: gpu))
        let peak = gpu.bf16DenseTFLOPS! * 1e12
        #expect(abs(sheet.gemm(flops: flops, weightBytes: bytes)
                    - max(flops / (peak * Efficiency.gemmCompute), bytes / (gpu.memoryBandwidth * Efficiency.memoryBandwidth))) < 1e-12)
        gpu.measured = true
        let measured = CostModel(memory: MemoryModel(model: Fixtures.model("llama-3.1-8b"), gpu: gpu, quantization: .bf16),
                                 layout: ParallelLayout(tp: 1, pp: 1), cluster: Cluster(gpusPerNode: 1),
                                 intraNodeLink: Fixtures.catalog.intraNodeLink(for: gpu), interNodeLink: Fixtures.catalog.intraNodeLink(for: gpu))
        #expect(abs(measured.gemm(flops: flops, weightBytes: bytes) - (flops / peak + bytes / gpu.memoryBandwidth)) < 1e-12)
    }

    @Test func deviceFitRecoversTheRatesThatProducedTheTimings() throws {
        // Timings made by the cost model itself at known rates must fit back to those rates.
        var gpu = Fixtures.gpu("l4")
        gpu.measured = true
        gpu.memoryBandwidthGBps = 21
        gpu.bf16DenseTFLOPS = 0.06
        gpu.fp16DenseTFLOPS = 0.06
        let model = Fixtures.model("gemma-3-270m"), link = Fixtures.catalog.intraNodeLink(for: gpu)
        let cost = CostModel(memory: MemoryModel(model: model, gpu: gpu, quantization: .q4, maxNumBatchedTokens: 256),
                             layout: ParallelLayout(tp: 1, pp: 1), cluster: Cluster(gpusPerNode: 1), intraNodeLink: link, interNodeLink: link)
        let timings = MeasuredTimings(
            decodeStepSeconds: cost.stageTimes([BatchSlice(newTokens: 1, contextLength: 17, samples: true)])[0],
            prefillSeconds: cost.stageTimes([BatchSlice(newTokens: 256, contextLength: 256, samples: true)])[0], prefillTokens: 256)
        var template = Fixtures.gpu("l4")
        template.measured = nil
        let fitted = try DeviceFit.fit(timings, spec: model, quantization: .q4, template: template, link: link)
        #expect(fitted.isMeasured)
        #expect(abs(fitted.memoryBandwidthGBps / 21 - 1) < 1e-6, "\(fitted.memoryBandwidthGBps)")
        #expect(abs(fitted.bf16DenseTFLOPS! / 0.06 - 1) < 1e-6, "\(fitted.bf16DenseTFLOPS!)")
        // A prefill faster than the weights alone allow has no positive solution: an error, not nonsense.
        #expect(throws: DeviceFitError.self) {
            try DeviceFit.fit(MeasuredTimings(decodeStepSeconds: timings.decodeStepSeconds, prefillSeconds: timings.decodeStepSeconds / 10,
                                              prefillTokens: 256), spec: model, quantization: .q4, template: template, link: link)
        }
    }

    /// An L4 made a measured device: 21 GB/s, 0.06 TFLOPS, this cost per sampled row.
    func measuredL4(rowSeconds: Double) -> GPUSpec {
        var gpu = Fixtures.gpu("l4")
        gpu.measured = true
        gpu.memoryBandwidthGBps = 21
        gpu.bf16DenseTFLOPS = 0.06
        gpu.fp16DenseTFLOPS = 0.06
        gpu.sampledRowSeconds = rowSeconds
        return gpu
    }

    /// What `plan --profile-device` would time for gemma-3-270m if `gpu` were exactly the cost
    /// model: a 1-row decode step, a 512-token prefill, a 32-row step and (with `mid`) an 8-row step.
    func profileTimings(_ gpu: GPUSpec, mid: Bool) -> MeasuredTimings {
        let link = Fixtures.catalog.intraNodeLink(for: gpu)
        let c = CostModel(memory: MemoryModel(model: Fixtures.model("gemma-3-270m"), gpu: gpu, quantization: .q4, maxNumBatchedTokens: 512),
                          layout: ParallelLayout(tp: 1, pp: 1), cluster: Cluster(gpusPerNode: 1), intraNodeLink: link, interNodeLink: link)
        let one = BatchSlice(newTokens: 1, contextLength: 17, samples: true)
        return MeasuredTimings(decodeStepSeconds: c.stageTimes([one])[0],
                               prefillSeconds: c.stageTimes([BatchSlice(newTokens: 512, contextLength: 512, samples: true)])[0],
                               prefillTokens: 512, batchDecodeStepSeconds: c.stageTimes(Array(repeating: one, count: 32))[0], batchDecodeRows: 32,
                               midDecodeStepSeconds: mid ? c.stageTimes(Array(repeating: one, count: 8))[0] : nil, midDecodeRows: mid ? 8 : nil)
    }

    @Test func deviceFitWithABatchDecodeAlsoRecoversTheRowCost() throws {
        var gpu = measuredL4(rowSeconds: 0.003)
        let model = Fixtures.model("gemma-3-270m"), link = Fixtures.catalog.intraNodeLink(for: gpu)
        func timings(_ g: GPUSpec) -> MeasuredTimings { profileTimings(g, mid: false) }
        var template = Fixtures.gpu("l4")
        template.measured = nil
        let fitted = try DeviceFit.fit(timings(gpu), spec: model, quantization: .q4, template: template, link: link)
        #expect(abs(fitted.memoryBandwidthGBps / 21 - 1) < 1e-6, "\(fitted.memoryBandwidthGBps)")
        #expect(abs(fitted.bf16DenseTFLOPS! / 0.06 - 1) < 1e-6, "\(fitted.bf16DenseTFLOPS!)")
        #expect(abs(fitted.sampledRowSeconds! / 0.003 - 1) < 1e-6, "\(fitted.sampledRowSeconds!)")

        // A sampled row cheaper than the prefill's rate says (a faster head kernel): a negative
        // row cost, and the three timings are still reproduced.
        gpu.sampledRowSeconds = -0.0005
        let fastHead = try DeviceFit.fit(timings(gpu), spec: model, quantization: .q4, template: template, link: link)
        #expect(abs(fastHead.sampledRowSeconds! / -0.0005 - 1) < 1e-6, "\(fastHead.sampledRowSeconds!)")
        #expect(abs(fastHead.memoryBandwidthGBps / 21 - 1) < 1e-6 && abs(fastHead.bf16DenseTFLOPS! / 0.06 - 1) < 1e-6)
        // A 32-row step faster than a 1-row step: no rates reproduce it, an error.
        var impossible = timings(gpu)
        impossible.batchDecodeStepSeconds = 0.9 * impossible.decodeStepSeconds
        #expect(throws: DeviceFitError.self) {
            try DeviceFit.fit(impossible, spec: model, quantization: .q4, template: template, link: link)
        }
    }

    @Test func deviceFitWithAMidBatchDecodeRecoversHowMuchComputeHides() throws {
        // Timings from the cost model at known rates, row cost and serial share: the fit must
        // find the share (on its 0.05 grid) and the rates that go with it.
        let gpu = measuredL4(rowSeconds: 0.001)
        let model = Fixtures.model("gemma-3-270m"), link = Fixtures.catalog.intraNodeLink(for: gpu)
        func timings(serial: Double?) -> MeasuredTimings {
            var g = gpu
            g.gemmSerialFraction = serial
            return profileTimings(g, mid: true)
        }
        var template = Fixtures.gpu("l4")
        template.measured = nil
        for serial in [0.0, 0.35, 1.0] {
            let fitted = try DeviceFit.fit(timings(serial: serial), spec: model, quantization: .q4, template: template, link: link)
            #expect(abs(fitted.gemmSerialFraction! - serial) < 1e-9, "\(serial): \(fitted.gemmSerialFraction!)")
            #expect(abs(fitted.memoryBandwidthGBps / 21 - 1) < 1e-4 && abs(fitted.bf16DenseTFLOPS! / 0.06 - 1) < 1e-4,
                    "\(serial): \(fitted.memoryBandwidthGBps) \(fitted.bf16DenseTFLOPS!)")
            #expect(abs(fitted.sampledRowSeconds! / 0.001 - 1) < 1e-3, "\(serial): \(fitted.sampledRowSeconds!)")
        }
        // Without a mid point the two times add, as before.
        var noMid = timings(serial: 1)
        noMid.midDecodeStepSeconds = nil
        #expect(try DeviceFit.fit(noMid, spec: model, quantization: .q4, template: template, link: link).gemmSerialFraction == 1)
    }

    @Test func aMeasuredDevicesRowCostIsPaidPerSampledRowOnTheLastStage() {
        var gpu = Fixtures.gpu("l4")
        gpu.measured = true
        let link = Fixtures.catalog.intraNodeLink(for: gpu)
        func stages(_ row: Double?) -> [Double] {
            var g = gpu
            g.sampledRowSeconds = row
            return CostModel(memory: MemoryModel(model: Fixtures.model("llama-3.1-8b"), gpu: g, quantization: .bf16, maxNumBatchedTokens: 2048),
                             layout: ParallelLayout(tp: 1, pp: 2), cluster: Cluster(gpusPerNode: 2), intraNodeLink: link, interNodeLink: link)
                .stageTimes([BatchSlice(newTokens: 1, contextLength: 100, samples: true), BatchSlice(newTokens: 1, contextLength: 50, samples: true),
                             BatchSlice(newTokens: 64, contextLength: 64, samples: false)])
        }
        let without = stages(nil), with = stages(0.002)
        #expect(with[0] == without[0])
        #expect(abs(with[1] - without[1] - 2 * 0.002) < 1e-12)
    }

    @Test func tensorParallelAddsRingAllReduce() {
        let cost = Fixtures.costModel("llama-3.1-70b", tp: 4)
        // 2(tp−1)/tp × bytes / (450 GB/s × 0.8) + 8 µs once per collective.
        let bytes = 1000.0 * 8192 * 2
        let expected = 1.5 * bytes / (450e9 * 0.8) + 8e-6
        #expect(abs(cost.allReduce(bytes: bytes) - expected) < 1e-12)
        #expect(Fixtures.costModel(tp: 1).allReduce(bytes: bytes) == 0)
    }

    @Test func capacitySearchIsMonotoneInTheTarget() throws {
        let workload = Workload(numRequests: 40, arrivals: .poisson(rate: 1), promptLength: .fixed(256), outputLength: .fixed(32), seed: 3)
        var rates: [Double] = []
        for ttft in [0.05, 0.1, 0.2, 0.5, 1.0] {
            let search = CapacitySearch(simulator: simulator(), workload: workload, ttftP99Target: ttft, tpotP99Target: 0.05, bisections: 6)
            rates.append(try search.run().rate)
        }
        #expect(rates == rates.sorted(), "\(rates)")
        #expect(rates.last! > 0)
    }

    /// A measured device twice as fast when the host's other devices idle.
    func measuredPipeline(alone: Bool, handoff: Double? = nil, model: String = "llama-3.1-70b") -> Simulator {
        var gpu = Fixtures.gpu("h100-sxm")
        gpu.measured = true
        gpu.memoryBandwidthGBps = 50
        gpu.bf16DenseTFLOPS = 0.05
        gpu.parkedHandoffSeconds = handoff
        if alone { gpu.alone = .init(memoryBandwidthGBps: 100, denseTFLOPS: 0.1) }
        // 70B: the LM head is small beside a stage's 40 layers, so the two stages are balanced
        // (with 8B the head stage is 1.6× the other, which then idles and leaves it alone).
        let memory = MemoryModel(model: Fixtures.model(model), gpu: gpu, quantization: .q4)
        let cost = CostModel(memory: memory, layout: ParallelLayout(pp: 2), cluster: Cluster(gpusPerNode: 2),
                             intraNodeLink: Fixtures.catalog.intraNodeLink(for: gpu), interNodeLink: try! Fixtures.catalog.link("infiniband-ndr"))
        var config = SchedulerConfig()
        config.maxModelLen = 1024
        return Simulator(costModel: cost, scheduler: config, numBlocks: 4000)
    }

    @Test func aloneRatesSpeedALonePipelinedRequestOnly() throws {
        // One request: a stage is never busy beside the other, so it runs at the alone rates.
        let one = Workload(numRequests: 1, arrivals: .allAtOnce, promptLength: .fixed(32), outputLength: .fixed(16))
        let shared = try measuredPipeline(alone: false).run(one), alone = try measuredPipeline(alone: true).run(one)
        let speedup = alone.outputTokenThroughput / shared.outputTokenThroughput
        #expect(speedup > 1.8 && speedup < 2.05, "\(speedup)")
        // 32 requests keep both stages busy together: (almost) every stage runs at the shared rates.
        let many = Workload(numRequests: 32, arrivals: .allAtOnce, promptLength: .fixed(32), outputLength: .fixed(256))
        let manyShared = try measuredPipeline(alone: false).run(many), manyAlone = try measuredPipeline(alone: true).run(many)
        let busySpeedup = manyAlone.outputTokenThroughput / manyShared.outputTokenThroughput
        #expect(busySpeedup < 1.15, "\(busySpeedup) \(manyAlone.stageBusyFraction) \(manyShared.stageBusyFraction)")
    }

    @Test func aStageRunsAloneWhileItsIdleNeighbourSleeps() throws {
        // 8B: the head stage is 1.6x the other, so with 32 requests stage 0 idles ~40% of every
        // cycle; past the spin it sleeps and the head stage runs at the alone rates meanwhile.
        let many = Workload(numRequests: 32, arrivals: .allAtOnce, promptLength: .fixed(32), outputLength: .fixed(128))
        let shared = try measuredPipeline(alone: false, model: "llama-3.1-8b").run(many)
        let sleeping = try measuredPipeline(alone: true, model: "llama-3.1-8b").run(many)
        let gain = sleeping.outputTokenThroughput / shared.outputTokenThroughput
        #expect(gain > 1.15, "\(gain) \(sleeping.stageBusyFraction)")
        // Stages that never sleep keep the host shared (only the first batch, before either
        // stage has run, and the drained tail run alone).
        var spinning = measuredPipeline(alone: true, model: "llama-3.1-8b")
        spinning.stageParkAfter = .infinity
        let spinningGain = try spinning.run(many).outputTokenThroughput / shared.outputTokenThroughput
        #expect(spinningGain >= 1 && spinningGain < 1.06, "\(spinningGain)")
        // A lone request: each stage waits a whole stage time for the other and sleeps 250 us
        // into it, so the other runs nearly all its time alone.
        let one = Workload(numRequests: 1, arrivals: .allAtOnce, promptLength: .fixed(32), outputLength: .fixed(16))
        var neverSleeps = measuredPipeline(alone: true, model: "llama-3.1-8b")
        neverSleeps.stageParkAfter = .infinity
        let loneGain = try measuredPipeline(alone: true, model: "llama-3.1-8b").run(one).outputTokenThroughput
            / (try neverSleeps.run(one)).outputTokenThroughput
        #expect(loneGain > 1.5, "\(loneGain)")
    }

    @Test func aLonePipelinedTokenPaysEveryParkedHandOff() throws {
        // The engine to stage 0, stage 0 to stage 1 (in place of the link's latency), the tokens back.
        let one = Workload(numRequests: 1, arrivals: .allAtOnce, promptLength: .fixed(32), outputLength: .fixed(16))
        let plain = measuredPipeline(alone: false), handoff = 1e-3
        let link = plain.costModel.intraNodeLink.latency
        let parked = try measuredPipeline(alone: false, handoff: handoff).run(one), spinning = try plain.run(one)
        let added = parked.itl.p50 - spinning.itl.p50
        #expect(abs(added - (3 * handoff - link)) < 1e-6, "\(added)")
        // Datasheet GPUs and a lone device: no hand-off charged.
        #expect(plain.costModel.engineHandoffTime == 0)
        var gpu = Fixtures.gpu("h100-sxm")
        gpu.parkedHandoffSeconds = handoff
        let single = CostModel(memory: MemoryModel(model: Fixtures.model("llama-3.1-8b"), gpu: gpu, quantization: .q4), layout: ParallelLayout(),
                               cluster: Cluster(gpusPerNode: 1), intraNodeLink: plain.costModel.intraNodeLink, interNodeLink: plain.costModel.interNodeLink)
        #expect(single.engineHandoffTime == 0)
    }

    @Test func aBusyPipelineHidesTheHandOff() throws {
        // 32 requests: the next batch is already waiting at every stage, so a hand-off moves
        // only the return of the tokens, not the stages' throughput.
        let many = Workload(numRequests: 32, arrivals: .allAtOnce, promptLength: .fixed(32), outputLength: .fixed(128))
        let parked = try measuredPipeline(alone: false, handoff: 1e-3).run(many), spinning = try measuredPipeline(alone: false).run(many)
        let ratio = parked.outputTokenThroughput / spinning.outputTokenThroughput
        #expect(ratio > 0.97 && ratio <= 1.0, "\(ratio)")
    }
}
