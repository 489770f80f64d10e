import ModelFormats
import Testing

@Suite struct GGUFSlabTests {
    /// One expert of a merged [experts, rows, cols] tensor, as a 2-D tensor over the same bytes.
    @Test func slabsOfAThreeDimensionalTensor() throws {
        var w = GGUFTestWriter()
        w.addTensor("blk.0.ffn_up_exps.weight", type: .f32, ne: [4, 3, 2], data: (0..<24).flatMap { ggufLE(Float($0).bitPattern) })
        w.addTensor("flat", type: .f32, ne: [4, 3])
        let file = try openGGUF(w.bytes)
        let merged = try #require(file.tensor(named: "blk.0.ffn_up_exps.weight"))
        let second = try #require(merged.slab(1))
        #expect(second.name == "blk.0.ffn_up_exps.weight[1]" && second.shape == [3, 4] && second.type == .f32)
        #expect(try second.tensorData().floats() == (12..<24).map(Float.init))
        #expect(second.fileOffset == merged.fileOffset + 48 && second.offset == merged.offset + 48)
        #expect(merged.slab(2) == nil && merged.slab(-1) == nil && file.tensor(named: "flat")?.slab(0) == nil)
    }
}
