import Distributed
import ModelFormats
import Models
import Testing

@Suite struct ExpertParallelConfigTests {
    /// Every expert-parallel rank must hold an expert; a dense model ignores the flag (as vLLM).
    @Test func moreRanksThanExpertsIsRefusedAndDenseModelsIgnoreTheFlag() throws {
        var moe = try ModelConfig.load(directory: Fixtures.path("tiny-mixtral"))
        moe.numExperts = 1
        moe.numExpertsPerToken = 1
        let ep = ParallelConfig(tensorParallelSize: 2, enableExpertParallel: true)
        let e = #expect(throws: ShardPlanError.self) { try ep.validate(for: moe) }
        #expect(e?.description == "--enable-expert-parallel: --tensor-parallel-size 2 is more than the model's 1 experts")
        #expect(try ParallelConfig(tensorParallelSize: 2).validate(for: moe).count == 1)

        let dense = try ModelConfig.load(directory: Fixtures.path("tiny-llama"))
        #expect(try ep.validate(for: dense).count == 1)
        #expect(try ep.plan(rank: 1, config: dense, group: nil).expertParallel == false)
    }
}
