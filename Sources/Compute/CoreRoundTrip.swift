import ShardlineKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long a cache line takes from CPU 0 to CPU 1 and back: tens of nanoseconds when the two
/// share a last-level cache, hundreds when they do not. On a VM the hypervisor may move its
/// vCPUs between the two cases, which changes both memory bandwidth and what cross-thread
/// handoffs cost (`sl_core_round_trip_ns`).
public enum CoreRoundTrip {
    /// Median of three runs of `trips` round trips, in nanoseconds; nil with one online CPU or
    /// when threads cannot be pinned.
    public static func measure(trips: Int = 10_000) -> Double? {
        guard sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 else { return nil }
        let runs = (0..<3).map { _ in sl_core_round_trip_ns(0, 1, Int32(trips)) }
        guard runs.allSatisfy({ $0 > 0 }) else { return nil }
        return runs.sorted()[1]
    }
}
