import Foundation
import Testing
@testable import Planner

@Suite struct PlannerTests {
    func plan70B() throws -> PlanReport {
        var r = try PlanRequest(model: "llama-3.1-70b", gpu: "h100-sxm", cluster: Cluster(gpusPerNode: 8))
        r.maxModelLen = 8192
        r.concurrency = 32
        r.promptTokens = 256
        r.outputTokens = 64
        return try Planner().plan(r)
    }

    @Test func recommendsSmallestTPThenDP() throws {
        let report = try plan70B()
        #expect(report.recommendation?.layout == ParallelLayout(tp: 2, pp: 1, dp: 4))
        #expect(report.recommendation?.reason.contains("smallest TP") == true)
        for row in report.rows where row.fits {
            let sim = try #require(row.simulation)
            #expect(sim.completedRequests == 3 * row.concurrencyPerReplica)
            #expect(sim.tpot.p50 > 0 && sim.ttft.p99 >= sim.ttft.p50)
        }
        // At 32 requests decode is weight-bandwidth bound: one TP=8 replica reads each weight once
        // for all 32, four TP=2 replicas read theirs four times, so TP=8 is faster here and the
        // recommendation says so beside the rule's pick.
        let tp2 = try #require(report.rows.first { $0.layout == ParallelLayout(tp: 2, pp: 1, dp: 4) }?.outputTokensPerSecond)
        let tp8 = try #require(report.rows.first { $0.layout == ParallelLayout(tp: 8, pp: 1, dp: 1) }?.outputTokensPerSecond)
        #expect(tp8 > tp2)
        #expect(report.recommendation?.reason.contains("simulates") == true)
    }

    @Test func reportRoundTripsAsJSON() throws {
        let report = try plan70B()
        let text = try report.json()
        let back = try JSONDecoder().decode(PlanReport.self, from: Data(text.utf8))
        #expect(back.rows.count == report.rows.count)
        #expect(back.recommendation == report.recommendation)
        #expect(text.contains("\"kvBytesPerToken\" : 327680"))
    }

    @Test func tableNamesEveryLayoutAndTheRecommendation() throws {
        let table = try plan70B().table()
        #expect(table.contains("TP2 PP1 DP4"))
        #expect(table.contains("recommended: TP=2 PP=1 DP=4"))
        #expect(table.contains("assumes:"))
    }

    @Test func nothingFitsSaysSo() throws {
        var r = try PlanRequest(model: "llama-3.1-405b", gpu: "rtx-4090", cluster: Cluster(gpusPerNode: 2))
        r.maxModelLen = 4096
        let report = try Planner().plan(r)
        #expect(report.recommendation == nil)
        #expect(report.table().contains("recommended: none"))
    }

    @Test func mixtureOfExpertsPlanRuns() throws {
        var r = try PlanRequest(model: "qwen3-30b-a3b", gpu: "h100-sxm", cluster: Cluster(gpusPerNode: 4))
        r.maxModelLen = 8192
        r.concurrency = 16
        r.outputTokens = 32
        let report = try Planner().plan(r)
        #expect(report.rows.contains { $0.layout.ep > 1 && $0.fits })
        #expect(report.recommendation != nil)
    }
}
