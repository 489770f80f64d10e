import Compute
import Testing

/// A model's quantized matrices placed back to back in one huge-page arena.
@Suite struct WeightArenaTests {
    @Test func handsOutAlignedZeroedSpaceUntilFull() {
        let arena = WeightArena(capacity: 1000)
        let a = arena.allocate(100), b = arena.allocate(100)
        #expect(a != nil && b != nil)
        #expect(Int(bitPattern: a!) % (2 << 20) == 0, "the mapping starts on a huge-page boundary")
        #expect(Int(bitPattern: b!) - Int(bitPattern: a!) == 128, "64-byte aligned, back to back")
        #expect(UnsafeRawBufferPointer(start: b!, count: 100).allSatisfy { $0 == 0 })
        #expect(arena.allocate(900) == nil, "past the capacity: the caller falls back to its own storage")
        #expect(arena.allocate(700) != nil && arena.usedBytes == 956)
        #expect(arena.allocate(0) == nil)
    }

    /// Placed matrices compute what the originals compute: repacked for types that have the
    /// interleaved layout, copied as rows otherwise; a full arena falls back to a plain repack.
    @Test(arguments: [QuantType.q8_0, .q5_0, .q4_K, .q6_K])
    func placedMatricesMatchTheirSource(type: QuantType) {
        var rng = QuantRandom(seed: 990 + UInt64(type.rawValue))
        let rows = 48, cols = 256
        var w = randomWeights(type, rows: rows, cols: cols, &rng)
        if type == .q8_0 { for i in stride(from: 0, to: w.bytes.count, by: 34) { for k in (i + 2)..<(i + 34) where w.bytes[k] == 0x80 { w.bytes[k] = 0x81 } } }
        let source = QuantizedMatrix(type: type, rows: rows, cols: cols, copying: w.bytes)
        let arena = WeightArena(capacity: source.bytes.count)
        let placed = source.placed(in: arena)
        #expect(arena.usedBytes == source.bytes.count)
        #expect(placed.layout == source.repackedForDecode().layout)
        let overflow = source.placed(in: arena)  // the arena is full now
        #expect(arena.usedBytes == source.bytes.count && overflow.layout == placed.layout)
        let x = Tensor(shape: [3, cols], values: (0..<(3 * cols)).map { _ in rng.float() })
        let expected = QuantizedLinear(weight: source.repackedForDecode())(x, pool: ThreadPool(threads: 1)).toArray()
        #expect(QuantizedLinear(weight: placed)(x, pool: ThreadPool(threads: 1)).toArray() == expected)
        #expect(QuantizedLinear(weight: overflow)(x, pool: ThreadPool(threads: 1)).toArray() == expected)
    }
}
