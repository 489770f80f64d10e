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
public final class ThreadPool: Sendable {
    public static let shared = ThreadPool(threads: ThreadPool.defaultThreadCount())

    public let threadCount: Int
    private let state: PoolState

    public init(threads: Int) {
        threadCount = max(1, threads)
        state = PoolState(workers: threadCount - 1)
        for worker in 1..<max(threadCount, 1) {
            let state = self.state
            Thread { state.workerLoop(index: worker) }.start()
        }
    }

    deinit { state.shutDown() }

    static func defaultThreadCount() -> Int {
        if let s = getenv("SHARDLINE_NUM_THREADS"), let n = Int(String(cString: s)), n > 0 { return n }
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// Runs `body(worker)` once for each worker index `0..<threadCount` (the caller is worker 0)
    /// and returns when all are done. A re-entrant call, or one racing another caller, runs every
    /// share inline on the calling thread.
    public func run(_ body: @escaping (Int) -> Void) {
        if threadCount == 1 || !state.dispatch(body) {
            for worker in 0..<threadCount { body(worker) }
        }
    }

    /// Splits `0..<count` into one contiguous chunk per thread, each at least `minChunk` long.
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
}

/// What the workers share. Workers hold it strongly; the pool's deinit tells them to exit.
private final class PoolState: @unchecked Sendable {
    let workers: Int
    let generation = Atomic<UInt64>(0)
    let remaining = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let busy = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    // Written before the generation bump (release), read by workers after seeing it (acquire).
    private var task: ((Int) -> Void)?
    /// Spins before a worker parks: about 0.5 ms, longer than the gap between two ops of one step.
    private let spinLimit = 20_000

    init(workers: Int) {
        self.workers = workers
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
    }

    /// Hands `body` to the workers and runs share 0; false if another caller holds the pool.
    func dispatch(_ body: @escaping (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        task = body
        remaining.store(workers, ordering: .relaxed)
        bumpGeneration()
        body(0)
        while remaining.load(ordering: .acquiring) > 0 { sl_cpu_relax() }
        task = nil
        busy.store(false, ordering: .releasing)
        return true
    }

    func shutDown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        bumpGeneration()
    }

    private func bumpGeneration() {
        generation.add(1, ordering: .sequentiallyConsistent)
        // Pairs with the worker's sleepers increment: one of the two always sees the other.
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(&mutex)
            pthread_cond_broadcast(&wake)
            pthread_mutex_unlock(&mutex)
        }
    }

    func workerLoop(index: Int) {
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
            if stopping.load(ordering: .acquiring) { return }
            task?(index)
            remaining.subtract(1, ordering: .releasing)
        }
    }
}
