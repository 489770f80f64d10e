import Synchronization
import ShardlineKernels
#if canImport(Glibc)
import Glibc
#endif

/// Bytes at an address (weights, or KV blocks); the address as an integer so the history is Sendable.
public struct WeightRegion: Sendable, Equatable {
    public let address: Int
    public let bytes: Int

    public init(address: Int, bytes: Int) {
        self.address = address
        self.bytes = bytes
    }
}

/// Asks the cache for the next projections' weights while a pool thread would otherwise spin.
///
/// A decode step is the same sequence of projections every time (Gemma 270M: 72 and the head),
/// separated by serial work (norms, RoPE, the KV write, activation quantization) and by joins
/// during which one thread waits: about a fifth of a batch-1 token on 2 threads, with the
/// memory bus idle. The prefetcher learns the sequence by watching it (a projection's successor
/// is whatever ran after it last time) and hands the waiting threads the next projections'
/// bytes, up to `lookahead` ahead, in pieces, each projection from its end (the rows the
/// waiting worker itself will claim); the next projection then reads them from cache.
/// A wrong guess costs only bus time: a prefetch never faults, even on memory since unmapped.
/// Bytes no history predicts (a step's KV context for decode attention) go ahead of the window
/// (`willReadFirst`).
final class WeightPrefetcher: Sendable {
    typealias Region = WeightRegion

    /// The bytes to prefetch after one projection, claimed piece by piece by waiting threads.
    final class Window: Sendable {
        let regions: [Region]
        /// Each region is fetched from its end down to its start.
        let backward: Bool
        let total: Int
        let cursor = Atomic<Int>(0)

        init(_ regions: [Region], backward: Bool = false) {
            self.regions = regions
            self.backward = backward
            total = regions.reduce(0) { $0 + $1.bytes }
        }
    }

    private struct History {
        var last: Int?
        var successors: [Int: [Region]] = [:]
        /// The window to open after each projection, built once from `successors` and reopened
        /// every step (a new window per projection was an allocation and a free on the engine
        /// thread 73 times a token).
        var ahead: [Int: Window] = [:]
    }

    /// 0 turns prefetching off (`SHARDLINE_PREFETCH_BYTES=0`, for A/B runs).
    let lookahead: Int
    /// Small enough that a waiting thread notices new work within a fraction of a microsecond.
    static let piece = 4096
    private let history = Mutex(History())
    /// What waiting threads fetch: `first` (bytes no history predicts, kept until fetched or
    /// replaced), then `ahead` (what followed the running projection last time).
    private struct Open {
        var first: Window?
        var ahead: Window?
    }
    private let window = Mutex(Open())
    /// Bumped (under the window's lock) whenever either window changes. `drained` is the
    /// version a thread last found nothing left in: idle threads then spin on these two words
    /// instead of taking the lock and bumping the cursor, cache lines the engine thread needs
    /// 90 times a token. Three alternating traced runs with and without: willRead 0.67 against
    /// 0.74 us, the KV write 0.61 against 0.69 us, the token 1-4% shorter.
    private let version = Atomic<Int>(0)
    private let drained = Atomic<Int>(-1)

    init(lookahead: Int = WeightPrefetcher.defaultLookahead()) {
        self.lookahead = max(0, lookahead)
    }

    /// A quarter of the last-level cache (8 MB on a 32 MB L3): 2 MB gained 3%, 8 and 16 MB
    /// about 4.4% on batch-1 decode of Gemma 270M, against no prefetching.
    static func defaultLookahead() -> Int {
        if let n = ComputeEnvironment.prefetchBytes.value { return n }
        let l3 = sysconf(Int32(_SC_LEVEL3_CACHE_SIZE))
        return l3 > 0 ? l3 / 4 : 2 << 20
    }

    /// The projection about to run reads `regions`: remember it as the successor of the last
    /// one, and open a window over what followed it last time.
    func willRead(_ regions: [Region]) {
        guard lookahead > 0, let key = regions.first?.address else { return }
        let next: Window? = history.withLock { h in
            if let last = h.last, h.successors[last] != regions {
                h.successors[last] = regions
                h.ahead = [:]  // the sequence changed (warm-up, another model): rebuild lazily
            }
            h.last = key
            if let w = h.ahead[key] { return w.total > 0 ? w : nil }
            let w = Window(chain(after: key, h.successors), backward: true)
            h.ahead[key] = w
            return w.total > 0 ? w : nil
        }
        // A thread still stepping through this window's last use merely fetches a piece again.
        next?.cursor.store(0, ordering: .relaxed)
        window.withLock {
            $0.ahead = next
            version.add(1, ordering: .releasing)
        }
    }

    /// The regions that followed `key` last time, up to `lookahead` bytes, each projection's
    /// from its end: workers claim a job's chunks from the back (`Job`), so what a waiting
    /// worker fetches first is what it will read itself. On a VM whose two vCPUs sit on
    /// different CCDs (separate L3s), bytes one thread prefetched for the other cross the
    /// package when read, no faster than DRAM.
    private func chain(after key: Int, _ successors: [Int: [Region]]) -> [Region] {
        var ahead: [Region] = [], bytes = 0, from = key
        // A few hops at most: a step's sequence cycles back to its first projection.
        for _ in 0..<8 {
            guard bytes < lookahead, let following = successors[from], let first = following.first else { break }
            for r in following.reversed() where bytes < lookahead {
                let take = min(r.bytes, lookahead - bytes)
                ahead.append(Region(address: r.address + r.bytes - take, bytes: take))
                bytes += take
            }
            from = first.address
        }
        return ahead
    }

    /// Bytes an op soon reads that no projection history predicts (a layer's KV context for
    /// attention): fetched before the projections' window, whatever projections start
    /// meanwhile; they replace what is left of earlier such bytes.
    func willReadFirst(_ regions: [Region]) {
        guard lookahead > 0, !regions.isEmpty else { return }
        let first = Window(regions)
        window.withLock {
            $0.first = first
            version.add(1, ordering: .releasing)
        }
    }

    /// What waiting threads would fetch, in order, claimed or not (for tests).
    var windowRegions: [Region] { window.withLock { ($0.first?.regions ?? []) + ($0.ahead?.regions ?? []) } }

    /// Prefetches one piece of the open window; false when there is nothing left to fetch.
    func step() -> Bool {
        if drained.load(ordering: .relaxed) == version.load(ordering: .acquiring) { return false }
        let (open, seen) = window.withLock { ($0, version.load(ordering: .relaxed)) }
        if let w = open.first, fetch(w) { return true }
        if let w = open.ahead, fetch(w) { return true }
        drained.store(seen, ordering: .relaxed)
        return false
    }

    /// Claims and prefetches the window's next piece; false when none is left.
    private func fetch(_ w: Window) -> Bool {
        // A plain load first: a drained window's cursor line stays shared, not bounced by adds.
        guard w.cursor.load(ordering: .relaxed) < w.total else { return false }
        guard let piece = w.piece(at: w.cursor.add(Self.piece, ordering: .relaxed).oldValue) else { return false }
        sl_prefetch(UnsafeRawPointer(bitPattern: piece.address), piece.bytes)
        return true
    }
}

extension WeightPrefetcher.Window {
    /// The bytes of the piece that starts `offset` bytes into the window: up to a piece, never
    /// past its region's edge; nil past the window's end.
    func piece(at offset: Int) -> WeightRegion? {
        var offset = offset
        for r in regions {
            if offset < r.bytes {
                let bytes = min(WeightPrefetcher.piece, r.bytes - offset)
                return WeightRegion(address: backward ? r.address + r.bytes - offset - bytes : r.address + offset, bytes: bytes)
            }
            offset -= r.bytes
        }
        return nil
    }
}
