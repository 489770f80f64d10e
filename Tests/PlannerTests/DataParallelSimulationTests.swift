import Engine
import Testing
@testable import Planner

/// Several replicas behind the engine's router, each its own EngineCore and prefix cache.
@Suite struct DataParallelSimulationTests {
    func simulator(replicas: Int, routing: RoutingPolicy, numBlocks: Int = 20_000, maxNumSeqs: Int = 256) -> Simulator {
        var config = SchedulerConfig()
        config.maxModelLen = 4096
        config.maxNumSeqs = maxNumSeqs
        var s = Simulator(costModel: Fixtures.costModel("llama-3.1-8b"), scheduler: config, numBlocks: numBlocks)
        s.replicas = replicas
        s.routing = routing
        return s
    }

    @Test func sharedPrefixPromptsOpenWithTheirPrefix() {
        let w = Workload(numRequests: 40, arrivals: .allAtOnce, promptLength: .fixed(20), outputLength: .fixed(4),
                         sharedPrefix: .init(length: 48, count: 3))
        #expect(w.lengths().allSatisfy { $0.prompt == 68 })
        let prompts = (0..<40).map { w.promptTokens(request: $0, count: 68, vocabSize: 1000) }
        let groups = Dictionary(grouping: 0..<40) { w.prefixIndex(request: $0)! }
        #expect(groups.count == 3)
        for (_, members) in groups {
            for i in members { #expect(Array(prompts[i].prefix(48)) == Array(prompts[members[0]].prefix(48))) }
        }
        // Different prefixes differ; suffixes are every request's own.
        let firsts = groups.values.map { Array(prompts[$0[0]].prefix(48)) }
        #expect(Set(firsts.map { $0.description }).count == 3)
        #expect(Set(prompts.map { Array($0.suffix(20)).description }).count == 40)
    }

    @Test func twoReplicasServeTwiceTheRequestsOfOne() throws {
        // 64 requests at once, at most 8 running per replica: 2 replicas run twice as many at a
        // time as 1, so about twice the throughput. (With room to batch all 64, one replica's
        // memory-bound decode step would cost what a half batch does: DP pays only when saturated.)
        let w = Workload(numRequests: 64, arrivals: .allAtOnce, promptLength: .fixed(256), outputLength: .fixed(64))
        let one = try simulator(replicas: 1, routing: .roundRobin, maxNumSeqs: 8).run(w)
        let two = try simulator(replicas: 2, routing: .roundRobin, maxNumSeqs: 8).run(w)
        #expect(two.completedRequests == 64 && two.outputTokens == 64 * 64)
        #expect(two.stageBusyFraction.count == 2)
        let speedup = two.outputTokenThroughput / one.outputTokenThroughput
        #expect(speedup > 1.6 && speedup < 2.1, "\(speedup)")
        #expect(try simulator(replicas: 2, routing: .roundRobin, maxNumSeqs: 8).run(w) == two)
    }

    @Test func prefixAwareRoutingKeepsSystemPromptsWarm() throws {
        // 8 system prompts of 1024 tokens = 512 blocks; each replica holds 300: round-robin makes
        // every replica hold all 8, prefix-aware about 4 each.
        let w = Workload(numRequests: 240, arrivals: .closedLoop(concurrency: 8), promptLength: .fixed(64), outputLength: .fixed(8),
                         seed: 3, sharedPrefix: .init(length: 1024, count: 8))
        let rr = try simulator(replicas: 2, routing: .roundRobin, numBlocks: 300).run(w)
        let pa = try simulator(replicas: 2, routing: .prefixAware, numBlocks: 300).run(w)
        #expect(rr.completedRequests == 240 && pa.completedRequests == 240)
        let rrHits = try #require(rr.prefixCacheHitRate), paHits = try #require(pa.prefixCacheHitRate)
        #expect(paHits > rrHits + 0.2, "hit rate \(rrHits) → \(paHits)")
        #expect(paHits > 0.8, "\(paHits)")
        #expect(pa.requestThroughput > rr.requestThroughput * 1.3, "\(rr.requestThroughput) → \(pa.requestThroughput)")
    }

    @Test func oneReplicaIsThePlainEngineLoop() throws {
        let w = Workload(numRequests: 30, arrivals: .poisson(rate: 10), promptLength: .uniform(min: 16, max: 300),
                         outputLength: .fixed(16), seed: 5)
        let report = try simulator(replicas: 1, routing: .prefixAware).run(w)
        #expect(report == (try simulator(replicas: 1, routing: .roundRobin).run(w)))
        #expect(report.completedRequests == 30 && report.prefixCacheHitRate == 0)
    }
}
