import Compute
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
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
