import Compute
import ShardlineKernels
import Testing

/// The AVX2 activation quantizer writes the scalar one's bytes.
@Suite struct ActivationQuantizationTests {
    @Test(.enabled(if: sl_quant_simd_active() == 1, "no AVX2 path on this CPU"), arguments: [QuantType.q8_0, .q6_K])
    func simdBytesEqualScalarBytes(type: QuantType) {
        var rng = QuantRandom(seed: 950 + UInt64(type.rawValue))
        let n = 1024
        // Mixed magnitudes, a zero block, exact halves (round-to-even ties) and values at the clamp.
        var x = (0..<n).map { i in rng.float() * (i % 3 == 0 ? 100 : 0.01) }
        for i in 256..<512 { x[i] = 0 }
        for i in 512..<544 { x[i] = Float(i - 528) + 0.5 }
        x[600] = 1e-30; x[601] = -3e38
        func quantize(portable: Bool) -> [UInt8] {
            var out = [UInt8](repeating: 0xAA, count: type.activationRowBytes(n))
            sl_quant_force_portable(portable ? 1 : 0)
            defer { sl_quant_force_portable(0) }
            out.withUnsafeMutableBytes { sl_quantize_act_row(Int32(type.rawValue), x, $0.baseAddress, n) }
            return out
        }
        #expect(quantize(portable: false) == quantize(portable: true))
    }
}
