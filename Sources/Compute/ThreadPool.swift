import Foundation
import Synchronization
import ShardlineKernels
#if canImport(Glibc)
import Glibc
#endif

/// A persistent spin-then-park pool: the only parallel runtime in the process.
/// Hundreds of small ops per token need dispatch in well under a microsecond, which a
/// semaphore or libdispatch cannot give (see shared/MEASUREMENTS.md); idle workers park on a
/// condition variable so they never fight other processes for the cores.
public final class ThreadPool: @unchecked Sendable {
    public static let shared = ThreadPool(threads: ThreadPool.defaultThreadCount())

    public let threadCount: Int
    private let generation = Atomic<UInt64>(0)
    private let remaining = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    // Written by the caller before the generation bump (release), read by workers after (acquire).
    private var task: ((Int) -> Void)?
    /// Spins before a worker parks: about 0.5 ms, longer than the gap between two ops of one step.
    private let spinLimit = 20_000

    /// Workers live as long as the process: pools are created once, not per model.
    public init(threads: Int) {
        threadCount = max(1, threads)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        for worker in 1..<threadCount {
            let thread = Thread { [unowned self] in self.workerLoop(index: worker) }
            thread.start()
        }
    }

    static func defaultThreadCount() -> Int {
        if let s = getenv("SHARDLINE_NUM_THREADS"), let n = Int(String(cString: s)), n > 0 { return n }
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// Runs `body(worker)` once on each of `threadCount` threads (the caller is worker 0) and
    /// returns when all are done. Re-entrant calls and calls racing another user run every
    /// worker's share inline, on the calling thread.
    public func run(_ body: @escaping (Int) -> Void) {
        if threadCount == 1 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for worker in 0..<threadCount { body(worker) }
            return
        }
        task = body
        remaining.store(threadCount - 1, ordering: .relaxed)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(&mutex)
            pthread_cond_broadcast(&wake)
            pthread_mutex_unlock(&mutex)
        }
        body(0)
        while remaining.load(ordering: .acquiring) > 0 { sl_cpu_relax() }
        task = nil
        busy.store(false, ordering: .releasing)
    }

    /// Splits `0..<count` into one contiguous chunk per thread.
    public func parallelFor(_ count: Int, minChunk: Int = 1, _ body: @escaping (Range<Int>) -> Void) {
        let chunks = min(threadCount, max(1, count / max(minChunk, 1)))
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        run { worker in
            guard worker < chunks else { return }
            let lo = count * worker / chunks, hi = count * (worker + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    private func workerLoop(index: Int) {
        var seen: UInt64 = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < spinLimit { sl_cpu_relax(); continue }
                pthread_mutex_lock(&mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen {
                    pthread_cond_wait(&wake, &mutex)
                }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(&mutex)
                spins = 0
            }
            seen = generation.load(ordering: .acquiring)
            task?(index)
            remaining.subtract(1, ordering: .releasing)
        }
    }
}
