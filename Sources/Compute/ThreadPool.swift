import Foundation
import Synchronization
import ShardlineKernels
#if canImport(Glibc)
import Glibc
#endif

/// A persistent spin-then-park pool: the only parallel runtime in the process.
///
/// Hundreds of small ops per token need dispatch in well under a microsecond, which a semaphore
/// or libdispatch cannot give (see shared/MEASUREMENTS.md). Work is split into chunks that
/// threads *claim*: the caller claims chunks too, so if a worker is not on a core (another
/// process has it) the caller simply does the work instead of waiting for it. Idle workers
/// park on a condition variable so they never fight other processes for the cores.
public final class ThreadPool: Sendable {
    public static let shared = ThreadPool(threads: ThreadPool.defaultThreadCount())

    public let threadCount: Int
    private let state: PoolState

    /// Workers live as long as the pool; the process-wide `shared` pool lives forever.
    public init(threads: Int) {
        threadCount = max(1, threads)
        state = PoolState()
        for _ in 1..<threadCount {
            let state = self.state
            Thread { state.workerLoop() }.start()
        }
    }

    deinit { state.shutDown() }

    static func defaultThreadCount() -> Int {
        ComputeEnvironment.threads.value ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// Runs `body(chunk)` for every chunk in `0..<chunks`, spread over the pool's threads, and
    /// returns when all are done. `body` must be safe to run concurrently for different chunks.
    /// Calls made from inside a chunk run inline.
    public func run(chunks: Int, _ body: @escaping (Int) -> Void) {
        guard chunks > 0 else { return }
        if threadCount == 1 || chunks == 1 || PoolState.insideChunk {
            for c in 0..<chunks { body(c) }
            return
        }
        state.dispatch(Job(chunks: chunks, body: body))
    }

    /// The next job reads these weights. Threads that wait (for work, or at a
    /// join) spend the wait prefetching whatever followed them last time (`WeightPrefetcher`).
    public func willRead(_ weights: [WeightRegion]) {
        guard threadCount > 1 else { return }
        state.prefetcher.willRead(weights)
    }

    /// The next op reads these bytes before anything `willRead` announced: waiting threads
    /// prefetch them first.
    public func willReadFirst(_ regions: [WeightRegion]) {
        guard threadCount > 1 else { return }
        state.prefetcher.willReadFirst(regions)
    }

    /// Splits `0..<count` into up to one contiguous range per thread, each at least `minChunk` long.
    public func parallelFor(_ count: Int, minChunk: Int = 1, _ body: @escaping (Range<Int>) -> Void) {
        let chunks = min(threadCount, max(1, count / max(minChunk, 1)))
        guard count > 0 else { return }
        run(chunks: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// One `run`: chunks are claimed by whichever thread gets there first, the dispatching thread
/// from the front and the workers from the back, so that each thread mostly runs the same end
/// of a job every time and reads what its own waits prefetched (`WeightPrefetcher` fetches
/// from the back). Unchecked: `body` runs on several threads by design; callers hand it
/// disjoint work.
final class Job: @unchecked Sendable {
    let chunks: Int
    let body: (Int) -> Void
    /// The unclaimed chunks front..<back, packed as back << 32 | front.
    let unclaimed: Atomic<Int>
    let done = Atomic<Int>(0)

    init(chunks: Int, body: @escaping (Int) -> Void) {
        precondition(chunks < 1 << 31, "Job: \(chunks) chunks")
        self.chunks = chunks
        self.body = body
        unclaimed = Atomic(chunks << 32)
    }

    /// The next chunk from the front (or the back), or nil when none is left.
    func claim(fromBack: Bool) -> Int? {
        var packed = unclaimed.load(ordering: .relaxed)
        while true {
            let front = packed & 0xFFFF_FFFF, back = packed >> 32
            guard front < back else { return nil }
            let next = fromBack ? (back - 1) << 32 | front : back << 32 | (front + 1)
            let (exchanged, original) = unclaimed.compareExchange(expected: packed, desired: next, ordering: .relaxed)
            if exchanged { return fromBack ? back - 1 : front }
            packed = original
        }
    }

    /// Claims and runs chunks until none are left.
    func work(fromBack: Bool) {
        while let c = claim(fromBack: fromBack) {
            PoolState.insideChunk = true
            body(c)
            PoolState.insideChunk = false
            done.add(1, ordering: .releasing)
        }
    }
}

/// What the workers share with the pool. Workers hold it strongly; the pool's deinit stops them.
private final class PoolState: @unchecked Sendable {
    /// Set while a thread runs a chunk, so nested parallel calls run inline.
    nonisolated(unsafe) static var insideChunkKey = pthread_key_t()
    static let keyCreated: Void = { pthread_key_create(&insideChunkKey, nil) }()
    static var insideChunk: Bool {
        get { _ = keyCreated; return pthread_getspecific(insideChunkKey) != nil }
        set { _ = keyCreated; pthread_setspecific(insideChunkKey, newValue ? UnsafeRawPointer(bitPattern: 1) : nil) }
    }

    let generation = Atomic<UInt64>(0)
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    let prefetcher = WeightPrefetcher()
    /// The current job; read by workers under the lock so the reference is never torn.
    let current = Mutex<Job?>(nil)
    /// One dispatcher at a time; a second caller runs its job alone rather than wait.
    let dispatching = Mutex<Void>(())
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    /// Spins before a worker parks: roughly the gap between two ops of one step.
    private let spinLimit = 20_000

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
    }

    func dispatch(_ job: Job) {
        let dispatched: Bool = dispatching.withLockIfAvailable { _ in
            current.withLock { $0 = job }
            bumpGeneration()
            job.work(fromBack: false)
            var spins = 0
            // Only chunks a worker has already claimed are waited for.
            while job.done.load(ordering: .acquiring) < job.chunks {
                if prefetcher.step() { continue }
                spins += 1
                if spins < 4_000 { sl_cpu_relax() } else { sched_yield() }
            }
            current.withLock { $0 = nil }
            return true
        } ?? false
        if !dispatched { job.work(fromBack: false) }
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

    func workerLoop() {
        var seen: UInt64 = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < spinLimit {
                    if !prefetcher.step() { sl_cpu_relax() }
                    continue
                }
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
            current.withLock { $0 }?.work(fromBack: true)
        }
    }
}
