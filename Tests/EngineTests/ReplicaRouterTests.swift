import Testing
@testable import Engine

@Suite struct ReplicaRouterTests {
    func prompt(_ seed: Int, blocks: Int, tail: Int = 5) -> [Int] {
        (0..<blocks * 16).map { seed * 100_000 + $0 } + (0..<tail).map { -$0 - seed * 10 }
    }

    @Test func roundRobinTakesTurnsWhateverTheLoad() {
        var router = ReplicaRouter(replicas: 3, policy: .roundRobin)
        let picks = (0..<7).map { _ in router.route([1, 2, 3], loads: [9, 0, 0]) }
        #expect(picks == [0, 1, 2, 0, 1, 2, 0])
    }

    @Test func leastLoadedPicksTheIdlestAndSpreadsTies() {
        var router = ReplicaRouter(replicas: 3, policy: .leastLoaded)
        #expect(router.route([1], loads: [4, 1, 2]) == 1)
        #expect(router.route([1], loads: [4, 3, 2]) == 2)
        let ties = (0..<3).map { _ in router.route([1], loads: [0, 0, 0]) }
        #expect(Set(ties) == [0, 1, 2])
    }

    @Test func prefixAwareKeepsAPrefixOnOneReplica() {
        var router = ReplicaRouter(replicas: 4, policy: .prefixAware, blockSize: 16)
        var home: [Int: Int] = [:]
        var loads = [0, 0, 0, 0]
        for i in 0..<40 {
            let p = i % 4
            // Same 3 leading blocks, a different tail each time.
            let r = router.route(prompt(p, blocks: 3, tail: i), loads: loads)
            loads[r] += 1
            if let h = home[p] { #expect(r == h, "prefix \(p) moved from \(h) to \(r)") } else { home[p] = r }
        }
        // New prefixes went to the least loaded, so the four landed on four replicas.
        #expect(Set(home.values).count == 4)
    }

    @Test func prefixAwareMatchesTheLongestRun() {
        var router = ReplicaRouter(replicas: 2, policy: .prefixAware, blockSize: 4)
        let a = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        let b = [1, 2, 3, 4, 50, 60, 70, 80]
        #expect(router.route(a, loads: [0, 0]) == 0)
        #expect(router.route(b, loads: [1, 0]) == 0)  // one shared block beats an idle replica
        // Replica 0 was sent b (one block in common with a), replica 1 a itself (an imbalance
        // of 0 allowed sends a past its one-block match): a's 3-block match wins.
        var other = ReplicaRouter(replicas: 2, policy: .prefixAware, blockSize: 4, maxImbalance: 0)
        #expect(other.route(b, loads: [0, 0]) == 0)
        #expect(other.route(a, loads: [1, 0]) == 1)
        #expect(other.route(a + [13], loads: [0, 0]) == 1)
    }

    @Test func prefixAwareGivesWayToAMuchLessLoadedReplica() {
        var router = ReplicaRouter(replicas: 2, policy: .prefixAware, blockSize: 16, maxImbalance: 4)
        let p = prompt(1, blocks: 2)
        #expect(router.route(p, loads: [0, 0]) == 0)
        #expect(router.route(p, loads: [4, 0]) == 0)
        #expect(router.route(p, loads: [5, 0]) == 1)
        // Now both replicas were sent it; the less loaded of the two wins.
        #expect(router.route(p, loads: [3, 2]) == 1)
    }

    @Test func prefixAwareForgetsOldestBeyondItsBound() {
        var router = ReplicaRouter(replicas: 2, policy: .prefixAware, blockSize: 16, rememberedBlocks: 8)
        #expect(router.route(prompt(1, blocks: 4), loads: [0, 0]) == 0)
        // Ten more 4-block prompts to replica 0 push prompt 1's blocks out of its memory.
        for i in 2..<12 { _ = router.route(prompt(i, blocks: 4), loads: [0, 1]) }
        #expect(router.route(prompt(1, blocks: 4), loads: [3, 0]) == 1)
    }
}
