import Compute
import ShardlineKernels
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

    /// The pool's argmax picks what one pass of sl_argmax_f32 picks: the first of equal maxima
    /// across range edges, NaNs skipped, an all-NaN range or row ignored or 0.
    @Test(arguments: [1, 2, 3])
    func argmaxAgreesWithOnePass(threads: Int) {
        let pool = ThreadPool(threads: threads), n = 1 << 17
        var rng = SeededRandom(seed: 77)
        var rows: [[Float]] = [(0..<n).map { _ in rng.next() }, [Float](repeating: 1, count: n),
                               [Float](repeating: .nan, count: n), (0..<1000).map { _ in rng.next() }]
        var late = [Float](repeating: -.infinity, count: n)
        late[n - 1] = 0; late[n / 2 + 5] = -0.0  // -0 and +0 tie: the earlier one wins
        rows.append(late)
        var nanFirstHalf = (0..<n).map { _ in rng.next() }
        for i in 0..<(n / 2 + 1) { nanFirstHalf[i] = .nan }
        rows.append(nanFirstHalf)
        var tied = [Float](repeating: 0, count: n)
        tied[n - 3] = 5; tied[n / 3 - 1] = 5  // equal maxima in different thirds
        rows.append(tied)
        for row in rows {
            let (ours, one) = row.withUnsafeBufferPointer { (pool.argmax($0), sl_argmax_f32($0.baseAddress!, $0.count)) }
            #expect(ours == one, "threads=\(threads), row of \(row.count)")
        }
    }
}
