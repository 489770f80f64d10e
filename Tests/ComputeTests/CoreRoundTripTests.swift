@testable import Compute
import ShardlineKernels
import Testing

@Suite struct CoreRoundTripTests {
    @Test func roundTripIsAPlausibleTimeOrNothing() {
        if let ns = CoreRoundTrip.measure(trips: 2_000) {
            #expect(ns > 1 && ns < 1_000_000, "\(ns) ns")
        }
        #expect(sl_core_round_trip_ns(0, 1, 0) == -1, "no trips")
        #expect(sl_core_round_trip_ns(0, 100_000, 10) == -1, "a CPU that does not exist cannot be pinned")
    }
}
