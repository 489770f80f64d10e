import Testing
@testable import Planner

@Suite struct MemoryAndLayoutTests {
    func request(_ model: String, gpus: Int, nodes: Int = 1, maxModelLen: Int = 8192, quantization: Quantization = .fp16) throws -> PlanRequest {
        var r = try PlanRequest(model: model, gpu: "h100-sxm", cluster: Cluster(nodes: nodes, gpusPerNode: gpus))
        r.quantization = quantization
        r.maxModelLen = maxModelLen
        r.simulate = false
        return r
    }

    @Test func llama70BAtFP16IsAbout141GB() {
        let memory = MemoryModel(model: Fixtures.model("llama-3.1-70b"), gpu: Fixtures.gpu("h100-sxm"), quantization: .fp16)
        // 70.55e9 parameters × 2 bytes.
        #expect(memory.totalWeightBytes > 140e9 && memory.totalWeightBytes < 142e9)
    }

    /// 141 GB of weights cannot fit one 80 GiB GPU at 0.9 utilisation (77.3e9 usable bytes);
    /// split over TP=2 each GPU holds ~70.6e9 bytes (65.7 GiB) and the rest, less ~1.4 GiB of
    /// activations and non-torch memory, holds ~5 GiB of KV: about 33k tokens at 160 KiB/token.
    @Test func llama70BNeedsTP2OnH100() throws {
        let report = try Planner().plan(try request("llama-3.1-70b", gpus: 2))
        let tp1 = try #require(report.rows.first { $0.layout == ParallelLayout(tp: 1, pp: 1, dp: 2) })
        #expect(!tp1.fits)
        #expect(tp1.reason.contains("exceed the usable"))
        let tp2 = try #require(report.rows.first { $0.layout == ParallelLayout(tp: 2, pp: 1, dp: 1) })
        #expect(tp2.fits, "\(tp2.reason)")
        #expect(tp2.memory.weightBytesPerGPU > 70e9 && tp2.memory.weightBytesPerGPU < 71.5e9)
        #expect(tp2.memory.kvCapacityTokensPerReplica > 8192)
        #expect(tp2.memory.kvBytesPerTokenPerGPU == 327_680 / 2)
        #expect(report.recommendation?.layout == ParallelLayout(tp: 2, pp: 1, dp: 1))
    }

    @Test func llama70BOnFiveGPUsFitsOnlyAsFivePipelineStages() throws {
        // 5 divides none of 64 heads' TP sizes but 1; one GPU cannot hold 141 GB; so PP=5.
        let report = try Planner().plan(try request("llama-3.1-70b", gpus: 5))
        let fitting = report.rows.filter(\.fits).map(\.layout)
        #expect(fitting == [ParallelLayout(tp: 1, pp: 5, dp: 1)], "\(fitting)")
        // Its TP sizes: the divisors of 64 heads (and of 8 KV heads) up to 8 GPUs.
        let eight = try Planner().plan(try request("llama-3.1-70b", gpus: 8))
        #expect(Set(eight.rows.map(\.layout.tp)) == [1, 2, 4, 8])
    }

    @Test func tp3IsRejectedOn64Heads() throws {
        let report = try Planner().plan(try request("llama-3.1-70b", gpus: 3))
        let tp3 = try #require(report.rows.first { $0.layout.tp == 3 })
        #expect(!tp3.fits)
        #expect(tp3.reason.contains("does not divide the 64 attention heads"))
    }

    @Test func layoutsCoverEveryFactorisation() {
        let memory = MemoryModel(model: Fixtures.model("llama-3.1-8b"), gpu: Fixtures.gpu("h100-sxm"))
        let layouts = LayoutEnumerator(memory: memory, cluster: Cluster(gpusPerNode: 8), maxModelLen: 8192).layouts()
        // (tp, pp) over the divisors of 8: 4 + 3 + 2 + 1.
        #expect(layouts.count == 10)
        #expect(layouts.allSatisfy { $0.gpus == 8 && $0.ep == 1 })
    }

    @Test func moeModelsGetExpertParallelRows() {
        let memory = MemoryModel(model: Fixtures.model("mixtral-8x7b"), gpu: Fixtures.gpu("h100-sxm"))
        let layouts = LayoutEnumerator(memory: memory, cluster: Cluster(gpusPerNode: 4), maxModelLen: 8192).layouts()
        #expect(layouts.contains(ParallelLayout(tp: 2, pp: 1, dp: 2, ep: 4)))
        #expect(layouts.filter { $0.ep > 1 }.allSatisfy { $0.ep == $0.tp * $0.dp })
        // EP gives each GPU 2 whole experts; TP=2 without EP gives it all 8 at half width: the same bytes.
        let ep = memory.weightBytes(stage: 0, layout: ParallelLayout(tp: 2, pp: 1, dp: 2, ep: 4))
        let tp4 = memory.weightBytes(stage: 0, layout: ParallelLayout(tp: 4, pp: 1, dp: 1, ep: 1))
        let tp2 = memory.weightBytes(stage: 0, layout: ParallelLayout(tp: 2, pp: 1, dp: 2, ep: 1))
        #expect(ep < tp2 && ep > tp4)
    }

    @Test func pipelineStagesSplitLayersLikeVLLM() {
        // 126 layers over 4 stages: 31 each, the remainder of 2 to the stages before the last.
        let ranges = ParallelLayout(pp: 4).stageLayerRanges(numLayers: 126)
        #expect(ranges.map(\.count) == [31, 32, 32, 31])
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == 126)
    }

    @Test func anExplicitLayerPartitionSplitsStagesAndMovesTheirCost() {
        // The engine's --pp-layer-partition, as calibrate hands it to the simulator.
        let layout = ParallelLayout(pp: 2, layerPartition: [24, 8])
        #expect(layout.stageLayerRanges(numLayers: 32) == [0..<24, 24..<32])
        #expect(layout.description.hasSuffix("(layers 24,8)"))
        // A partition that does not fit the model is not used: the even split stands.
        #expect(ParallelLayout(pp: 2, layerPartition: [24, 9]).stageLayerRanges(numLayers: 32) == [0..<16, 16..<32])
        #expect(ParallelLayout(pp: 2, layerPartition: [32]).stageLayerRanges(numLayers: 32) == [0..<16, 16..<32])
        let gpu = Fixtures.gpu("h100-sxm")
        let memory = MemoryModel(model: Fixtures.model("llama-3.1-8b"), gpu: gpu, quantization: .bf16)
        func stageTimes(_ layout: ParallelLayout) -> [Double] {
            CostModel(memory: memory, layout: layout, cluster: Cluster(gpusPerNode: 8), intraNodeLink: Fixtures.catalog.intraNodeLink(for: gpu),
                      interNodeLink: try! Fixtures.catalog.link("infiniband-ndr"))
                .stageTimes([BatchSlice(newTokens: 512, contextLength: 512, samples: true)])
        }
        let even = stageTimes(ParallelLayout(pp: 2)), skewed = stageTimes(layout)
        #expect(skewed[0] > even[0] && skewed[1] < even[1])
    }

    @Test func tensorParallelAcrossNodesIsAllowedButFlagged() throws {
        let report = try Planner().plan(try request("llama-3.1-405b", gpus: 8, nodes: 2, quantization: .bf16))
        let tp16 = try #require(report.rows.first { $0.layout.tp == 16 })
        #expect(tp16.tensorParallelSpansNodes)
        let tp8pp2 = try #require(report.rows.first { $0.layout == ParallelLayout(tp: 8, pp: 2, dp: 1) })
        #expect(!tp8pp2.tensorParallelSpansNodes)
        #expect(tp8pp2.fits, "\(tp8pp2.reason)")
        #expect(report.recommendation?.layout == ParallelLayout(tp: 8, pp: 2, dp: 1))
    }

    @Test func mlaCacheIsNotSplitByTP() {
        let memory = MemoryModel(model: Fixtures.model("deepseek-v3"), gpu: Fixtures.gpu("h200-sxm"), quantization: .fp8)
        #expect(memory.kvBytesPerToken(stage: 0, layout: ParallelLayout(tp: 8)) == 70_272)
    }
}
