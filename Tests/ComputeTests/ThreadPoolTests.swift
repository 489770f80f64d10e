@testable import Compute
import Synchronization
import Testing

@Suite struct ThreadPoolTests {
    @Test(arguments: [0, 1, 2, 3, 17, 1000])
    func parallelForCoversEveryIndexOnce(count: Int) {
        let pool = ThreadPool(threads: 3)
        let hits = Mutex([Int](repeating: 0, count: count))
        pool.parallelFor(count) { range in
            hits.withLock { for i in range { $0[i] += 1 } }
        }
        #expect(hits.withLock { $0.allSatisfy { $0 == 1 } })
    }

    @Test func nestedAndConcurrentCallsStillRunEveryShare() async {
        let pool = ThreadPool(threads: 2)
        let total = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    pool.parallelFor(10) { outer in
                        pool.parallelFor(outer.count) { inner in total.value.add(inner.count, ordering: .relaxed) }
                    }
                }
            }
        }
        #expect(total.value.load(ordering: .relaxed) == 80)
    }

    /// The dispatching thread claims chunks from the front, workers from the back; each chunk
    /// once, whichever end gets to it.
    @Test func claimsFromBothEndsHandOutEachChunkOnce() {
        let job = Job(chunks: 5) { _ in }
        #expect(job.claim(fromBack: false) == 0)
        #expect(job.claim(fromBack: true) == 4)
        #expect(job.claim(fromBack: true) == 3)
        #expect(job.claim(fromBack: false) == 1)
        #expect(job.claim(fromBack: true) == 2)
        #expect(job.claim(fromBack: false) == nil && job.claim(fromBack: true) == nil)
        #expect(Job(chunks: 0) { _ in }.claim(fromBack: true) == nil)
    }

    @Test func everyChunkRunsOnceUnderContention() {
        let pool = ThreadPool(threads: 4)
        for chunks in [1, 2, 7, 300] {
            let hits = Mutex([Int](repeating: 0, count: chunks))
            pool.run(chunks: chunks) { c in hits.withLock { $0[c] += 1 } }
            #expect(hits.withLock { $0 } == Array(repeating: 1, count: chunks), "\(chunks) chunks")
        }
    }
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
