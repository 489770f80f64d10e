import Compute
import ModelFormats
import Models
import Testing

/// What a rank of a mixture-of-experts model holds, with and without expert parallelism.
@Suite struct ShardPlanTests {
    /// Rank/size only; a plan never calls the collectives.
    final class Member: TensorParallelGroup, @unchecked Sendable {
        let rank: Int, size: Int
        init(_ rank: Int, of size: Int) { self.rank = rank; self.size = size }
        func allReduceSum(_ t: Tensor) {}
        func gatherColumns(_ local: Tensor, totalColumns: Int) -> Tensor? { nil }
        var failure: (any Error)? { nil }
    }

    @Test func expertParallelRanksHoldWholeExpertsTensorParallelRanksSliceThem() {
        for rank in 0..<3 {
            let sliced = ShardPlan(numLayers: 2, tensorParallel: Member(rank, of: 3))
            #expect(sliced.experts(8) == 0..<8 && sliced.expertColumns(128) == sliced.slice(128))
            let split = ShardPlan(numLayers: 2, tensorParallel: Member(rank, of: 3), expertParallel: true)
            #expect(split.experts(8) == [0..<3, 3..<6, 6..<8][rank] && split.expertColumns(128) == nil)
        }
        let whole = ShardPlan(numLayers: 2)
        #expect(whole.experts(8) == 0..<8 && whole.expertColumns(128) == nil)
    }

}
