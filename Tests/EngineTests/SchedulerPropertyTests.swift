@testable import Engine
import PropertyBased
import Testing

/// Random arrivals, lengths, priorities and aborts against a small pool: after every step the
/// block pool's books balance, the budget holds, and every request eventually finishes.
@Suite struct SchedulerPropertyTests {
    @Test func invariantsHoldUnderRandomWorkloads() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...1_000_000), Gen.bool, Gen.bool) { seed, priority, caching in
            var rng = SeedStream(seed: UInt64(seed))
            var config = SchedulerConfig()
            config.blockSize = 4
            config.maxNumBatchedTokens = 8 + rng.below(56)
            config.maxNumSeqs = 1 + rng.below(8)
            config.maxModelLen = 64
            config.policy = priority ? .priority : .fcfs
            config.enablePrefixCaching = caching
            let h = SchedulerHarness(config, numBlocks: 17 + rng.below(20))
            var added = 0, aborted: Set<RequestID> = []
            var step = 0
            while (added < 40 || h.scheduler.hasUnfinishedRequests) && step < 5_000 {
                if added < 40 && rng.below(3) == 0 {
                    try? h.add("r\(added)", prompt: 1 + rng.below(40), maxTokens: 1 + rng.below(20), priority: rng.below(3))
                    added += 1
                }
                if rng.below(25) == 0, let victim = (h.scheduler.running + h.scheduler.waiting).randomElement(using: &rng) {
                    h.scheduler.finish([victim.id], reason: .abort, now: h.now)
                    aborted.insert(victim.id)
                }
                let out = h.step()
                step += 1
                #expect(out.totalTokens <= config.maxNumBatchedTokens)
                #expect(out.requests.count <= config.maxNumSeqs && h.scheduler.running.count <= config.maxNumSeqs)
                #expect(Set(out.requests.map(\.id)).count == out.requests.count)
                checkBooks(h.scheduler)
            }
            #expect(!h.scheduler.hasUnfinishedRequests, "requests starved: \(h.scheduler.waiting.count) waiting")
            #expect(h.finished.count + aborted.count == added)
            #expect(h.scheduler.kvCache.numFreeBlocks == h.scheduler.kvCache.pool.capacity)
        }
    }

    /// Free + used = total; each block's ref count equals the tables holding it; free blocks
    /// are exactly the zero-count ones, each once in the free list; tables cover computed tokens.
    func checkBooks(_ s: Scheduler) {
        let pool = s.kvCache.pool
        var holders = [Int](repeating: 0, count: pool.numBlocks)
        for r in s.running {
            let table = s.kvCache.blockTable(for: r.id)
            #expect(table.count * s.config.blockSize >= r.numComputedTokens)
            for b in table { holders[Int(b)] += 1 }
        }
        for r in s.waiting { #expect(s.kvCache.blockTable(for: r.id).isEmpty) }
        let free = pool.freeListOrder
        #expect(free.count == pool.numFreeBlocks && Set(free).count == free.count)
        var used = 0
        for b in 1..<pool.numBlocks {
            #expect(pool.refCount(Int32(b)) == holders[b])
            if holders[b] > 0 { used += 1 }
        }
        #expect(used + pool.numFreeBlocks == pool.capacity)
        #expect(free.allSatisfy { holders[Int($0)] == 0 })
    }
}

/// A small deterministic generator for the simulated workload.
struct SeedStream: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
