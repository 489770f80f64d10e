import Synchronization

/// Each replica's latest scheduler stats, and the observer they reach as one engine: counts
/// summed, KV usage averaged (replicas have equal caches). Replicas step on their own threads;
/// the lock makes the observer see one step at a time, with totals that only grow, as its
/// per-step differences of cumulative counters need.
final class ReplicaStats: Sendable {
    private let latest: Mutex<[SchedulerStats]>
    private let observer: (any EngineObserver)?

    init(replicas: Int, observer: (any EngineObserver)?) {
        latest = Mutex(Array(repeating: SchedulerStats(), count: replicas))
        self.observer = observer
    }

    var perReplica: [SchedulerStats] { latest.withLock { $0 } }
    var total: SchedulerStats { Self.combined(perReplica) }

    func stepped(replica: Int, stats: SchedulerStats, events: [EngineEvent], outputs: [RequestOutput], now: Double) {
        latest.withLock { all in
            all[replica] = stats
            observer?.engineStepped(stats: Self.combined(all), events: events, outputs: outputs, now: now)
        }
    }

    func aborted(_ id: RequestID) { observer?.requestAborted(id) }

    static func combined(_ all: [SchedulerStats]) -> SchedulerStats {
        var t = SchedulerStats()
        for s in all {
            t.numRunning += s.numRunning
            t.numWaiting += s.numWaiting
            t.kvCacheUsage += s.kvCacheUsage / Double(all.count)
            t.numPreemptionsTotal += s.numPreemptionsTotal
            t.prefixCacheQueries += s.prefixCacheQueries
            t.prefixCacheHits += s.prefixCacheHits
        }
        return t
    }
}
