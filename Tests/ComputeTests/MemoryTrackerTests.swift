import Compute
import Foundation
import Testing

@Suite struct MemoryTrackerTests {
    @Test func peakCountsOnlyThisThreadsAllocationsInTheScope() {
        let before = Tensor(zeros: [1000])  // held from outside: not counted
        let other = Thread { for _ in 0..<200 { _ = Tensor(zeros: [50_000]) } }
        other.start()
        let peak = MemoryTracker.measurePeak {
            let a = Tensor(zeros: [1000])
            do { _ = Tensor(zeros: [3000]) }  // freed at once: peak 16 KB
            _ = a.count
        }
        #expect(peak == 16_000)
        _ = before.count
    }
}
