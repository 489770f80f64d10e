@testable import Compute
import Testing

@Suite struct TensorStorageTests {
    /// KV-cache-sized buffers start on a huge-page boundary (so THP can back them), read as
    /// zeros and take writes anywhere; small ones come from the heap, zeroed.
    @Test func largeBuffersAreHugePageAlignedZeroedMemory() {
        let count = (64 << 20) / 4 + 1000
        let large = TensorStorage(count: count)
        #expect(Int(bitPattern: large.pointer) % HugePageMapping.hugePage == 0)
        for i in [0, 1, count / 2, count - 1] {
            #expect(large.pointer[i] == 0)
            large.pointer[i] = Float(i)
            #expect(large.pointer[i] == Float(i))
        }
        let small = TensorStorage(count: 1000)
        #expect((0..<1000).allSatisfy { small.pointer[$0] == 0 })
    }
}
