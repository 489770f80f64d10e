import Compute
import ShardlineKernels
import Testing

/// Quantized weights: blocks are written here in Swift from logical values (scales, mins,
/// quants) following GGML's layouts, so the C unpacking is checked against an independent packer.
@Suite struct QuantizedTests {
    // MARK: (d) dequantization: hand-computed values and the packer's own values

    @Test func q4_0HandComputedBlock() {
        // d = 0.5; qs[j] = j | (15 - j) << 4: element j is (j - 8) / 2, element 16 + j is (7 - j) / 2.
        var bytes = f16Bytes(0.5)
        bytes += (0..<16).map { UInt8($0 | (15 - $0) << 4) }
        let y = dequantize(.q4_0, bytes, 32)
        #expect(y[0] == -4.0 && y[8] == 0.0 && y[15] == 3.5)
        #expect(y[16] == 3.5 && y[23] == 0.0 && y[31] == -4.0)
        let expected: [Float] = (0..<32).map { (j: Int) -> Float in
            let q: Int = j < 16 ? j - 8 : 7 - (j - 16)
            return Float(q) * 0.5
        }
        #expect(y == expected)
    }

    @Test func q5_0HandComputedBlock() {
        // d = 0.25, every nibble 0xF, high bits set on even elements: even -> (31 - 16) / 4, odd -> (15 - 16) / 4.
        var bytes = f16Bytes(0.25)
        bytes += [0x55, 0x55, 0x55, 0x55]
        bytes += [UInt8](repeating: 0xFF, count: 16)
        let y = dequantize(.q5_0, bytes, 32)
        #expect(y == (0..<32).map { $0 % 2 == 0 ? 3.75 : -0.25 })
    }

    @Test func q8_0HandComputedBlock() {
        var bytes = f16Bytes(2)
        bytes += (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
        #expect(dequantize(.q8_0, bytes, 32) == (0..<32).map { Float(($0 - 16) * 2) })
    }

    @Test func q4_KHandComputedBlock() {
        // d = 1, dmin = 0.5; sub-block j has scale j + 1 (j < 4) or 40 + j (j >= 4, exercising the
        // high bits), min 2j; every quant 3 (0x33 bytes): value = scale * 3 - 0.5 * min.
        let sc: [UInt8] = [1, 2, 3, 4, 44, 45, 46, 47], mn: [UInt8] = [0, 2, 4, 6, 8, 10, 12, 14]
        var bytes = f16Bytes(1) + f16Bytes(0.5) + packKScales(sc, mn)
        bytes += [UInt8](repeating: 0x33, count: 128)
        let y = dequantize(.q4_K, bytes, 256)
        #expect(y[0] == 3 && y[31] == 3 && y[32] == 5 && y[128] == 128 && y[255] == 134)
        #expect(y == (0..<256).map { (e: Int) -> Float in Float(sc[e / 32]) * 3 - 0.5 * Float(mn[e / 32]) })
    }

    @Test func q5_KHandComputedBlock() {
        // As Q4_K but quants 0x21 (low nibble 1 even sub-blocks, high nibble 2 odd ones) and the
        // 5th bit set for sub-blocks 1 and 6 only (qh bits 1 and 6): q = 1, 18, 1, 2, 1, 2, 17, 2.
        let sc: [UInt8] = [63, 1, 2, 3, 32, 33, 60, 7], mn: [UInt8] = [1, 63, 5, 7, 16, 48, 3, 0]
        var bytes = f16Bytes(0.125) + f16Bytes(1) + packKScales(sc, mn)
        bytes += [UInt8](repeating: 0b0100_0010, count: 32)
        bytes += [UInt8](repeating: 0x21, count: 128)
        let q: [Float] = [1, 18, 1, 2, 1, 2, 17, 2]
        let y = dequantize(.q5_K, bytes, 256)
        #expect(y[0] == 0.125 * 63 - 1 && y[32] == 0.125 * 18 - 63)
        #expect(y == (0..<256).map { (e: Int) -> Float in 0.125 * Float(sc[e / 32]) * q[e / 32] - Float(mn[e / 32]) })
    }

    @Test func q6_KHandComputedBlock() {
        // d = 0.5, scales[g] = g - 8; ql all 0x21, qh all 0b11_10_01_00: the four 32-element
        // quarters of each half get q = 1 | 0 << 4, 1 | 1 << 4, 2 | 2 << 4, 2 | 3 << 4.
        var bytes = [UInt8](repeating: 0x21, count: 128) + [UInt8](repeating: 0b1110_0100, count: 64)
        bytes += (0..<16).map { UInt8(bitPattern: Int8($0 - 8)) }
        bytes += f16Bytes(0.5)
        let quarterQ: [Int] = [1, 17, 34, 50]
        let y = dequantize(.q6_K, bytes, 256)
        #expect(y[0] == 0.5 * -8 * Float(1 - 32) && y[255] == 0.5 * 7 * Float(50 - 32))
        #expect(y == (0..<256).map { (e: Int) -> Float in 0.5 * Float(e / 16 - 8) * Float(quarterQ[(e % 128) / 32] - 32) })
    }

    @Test func floatTypesHandComputed() {
        let v: [Float] = [1, -2, 0.5, 65504, -0.00006103515625, 3.140625]
        let f16 = v.flatMap { f16Bytes($0) }
        #expect(dequantize(.f16, f16, v.count) == v)
        let bf16 = v.flatMap { le16(UInt16($0.bitPattern >> 16)) }
        #expect(dequantize(.bf16, bf16, v.count) == v.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) })
        #expect(dequantize(.f32, v.flatMap { le32($0.bitPattern) }, v.count) == v)
    }

    /// Random blocks of every type decode to exactly the values they were packed from.
    @Test(arguments: QuantType.allCases)
    func randomBlocksDecodeToPackedValues(type: QuantType) {
        var rng = QuantRandom(seed: 7 + UInt64(type.rawValue))
        let cols = 512
        let w = randomWeights(type, rows: 3, cols: cols, &rng)
        let m = QuantizedMatrix(type: type, rows: 3, cols: cols, copying: w.bytes)
        let y = m.dequantized().toArray()
        let scale = w.values.map(abs).max() ?? 1
        #expect(zip(y, w.values).allSatisfy { abs($0 - $1) <= 1e-6 * scale })
    }

    @Test func sizesMatchGGML() {
        let expected: [QuantType: (Int, Int)] = [
            .f32: (1, 4), .f16: (1, 2), .bf16: (1, 2), .q4_0: (32, 18), .q5_0: (32, 22),
            .q8_0: (32, 34), .q4_K: (256, 144), .q5_K: (256, 176), .q6_K: (256, 210),
        ]
        for t in QuantType.allCases {
            #expect(t.blockSize == expected[t]!.0 && t.bytesPerBlock == expected[t]!.1, "\(t)")
        }
        #expect(QuantType(rawValue: 12) == .q4_K && QuantType(rawValue: 30) == .bf16)
        #expect(QuantType.q4_K.rowBytes(640) == nil && QuantType.q4_K.rowBytes(1024) == 576)
    }

    // MARK: (a), (c) the matrix kernel against dequantize-then-matmul

    /// Two references per output:
    /// 1. Exact: Σ w·x̂ in Double, x̂ the values of the quantized activations (what the kernel
    ///    multiplies). Only float rounding separates them: |y - ref| ≤ 1e-5 · Σ|w·x̂|. A wrong
    ///    quant, scale or offset in one element of a ≥256-element row moves y by about 1/256 of
    ///    that sum, far outside.
    /// 2. Against the f32 activations: rounding x to the nearest multiple of its block's
    ///    d = max|x|/127 errs by at most d/2 per element, so |y - Σ w·x| ≤ Σ|w_i|·d_i/2
    ///    (+ the rounding term). This is the activation-quantization error the engine accepts;
    ///    typical errors are about 1e-3 of Σ|w·x| (random signs), the bound is below 1e-2 of it.
    @Test(arguments: QuantType.allCases, [1, 3, 5, 17])
    func matrixKernelMatchesDequantizedMatmul(type: QuantType, m: Int) {
        var rng = QuantRandom(seed: UInt64(type.rawValue * 100 + m))
        let rows = 37, cols = type.blockSize == 256 ? 512 : (type.blockSize == 32 ? 288 : 291)
        let w = randomWeights(type, rows: rows, cols: cols, &rng)
        let x = (0..<(m * cols)).map { _ in rng.float() * 2 }
        let bias = (0..<rows).map { _ in rng.float() }
        let layer = QuantizedLinear(weight: QuantizedMatrix(type: type, rows: rows, cols: cols, copying: w.bytes),
                                    bias: Tensor(shape: [rows], values: bias))
        let pool = ThreadPool(threads: 3)
        let y = layer(Tensor(shape: [m, cols], values: x), pool: pool)
        #expect(y.shape == [m, rows])
        let xq = quantizedActivations(type, x, cols: cols)
        var worst = 0.0, failures: [String] = []
        for r in 0..<m {
            for o in 0..<rows {
                var exact = 0.0, l1 = 0.0, fromF32 = 0.0, bound = 0.0
                for c in 0..<cols {
                    let wv = Double(w.values[o * cols + c]), xv = Double(x[r * cols + c]), xh = Double(xq.values[r * cols + c])
                    exact += wv * xh
                    l1 += abs(wv * xh)
                    fromF32 += wv * xv
                    bound += abs(wv) * Double(xq.halfStep[r * cols + c])
                }
                let got = Double(y[r, o]) - Double(bias[o])
                if abs(got - exact) > 1e-5 * l1 + 1e-6 { failures.append("row \(r) out \(o): \(got), exact \(exact), Σ|w·x̂| \(l1)") }
                if abs(got - fromF32) > bound * 1.001 + 1e-5 * l1 + 1e-6 { failures.append("row \(r) out \(o): \(got), f32 \(fromF32), bound \(bound)") }
                worst = max(worst, abs(got - fromF32) / max(l1, 1e-30))
            }
        }
        #expect(failures.isEmpty, "\(type) m=\(m): \(failures.count) outputs off, first: \(failures.first ?? "")")
        #expect(worst < 1e-2, "\(type): activation quantization error \(worst) of Σ|w·x|")
    }

    @Test func rowsSplitOverManyChunksAndBorrowedBytes() {
        // 1000 rows over a 2-thread pool: 8 claimed chunks of 125 rows, none a multiple of 4.
        var rng = QuantRandom(seed: 99)
        let rows = 1000, cols = 256
        let w = randomWeights(.q4_K, rows: rows, cols: cols, &rng)
        let owner = ByteBox(w.bytes)
        let borrowed = QuantizedMatrix(type: .q4_K, rows: rows, cols: cols,
                                       bytes: UnsafeRawBufferPointer(start: owner.pointer, count: w.bytes.count), owner: owner)
        let x = Tensor(shape: [2, cols], values: (0..<(2 * cols)).map { _ in rng.float() })
        let y = QuantizedLinear(weight: borrowed)(x, pool: ThreadPool(threads: 2))
        let single = QuantizedLinear(weight: QuantizedMatrix(type: .q4_K, rows: rows, cols: cols, copying: w.bytes))(x, pool: ThreadPool(threads: 1))
        #expect(y.toArray() == single.toArray())
        #expect(maxAbs(QuantizedLinear(weight: borrowed).dequantized().toArray(), w.values) == 0)
    }

    // MARK: (b) AVX2 against the portable path

    // m: the row kernels (one group of 4 and one of 2) and the tiles (from 12 rows).
    @Test(.enabled(if: sl_quant_simd_active() == 1, "no AVX2 path on this CPU"), arguments: QuantType.allCases, [6, 13])
    func simdPathMatchesPortablePath(type: QuantType, m: Int) {
        var rng = QuantRandom(seed: 500 + UInt64(type.rawValue))
        let rows = 23, cols = type.blockSize == 256 ? 768 : (type.blockSize == 32 ? 800 : 803)
        let w = randomWeights(type, rows: rows, cols: cols, &rng)
        let x = (0..<(m * cols)).map { _ in rng.float() }
        let xq = quantizedActivations(type, x, cols: cols)
        func run(portable: Bool) -> [Float] {
            var y = [Float](repeating: .nan, count: m * rows)
            sl_quant_force_portable(portable ? 1 : 0)
            defer { sl_quant_force_portable(0) }
            #expect(sl_quant_simd_active() == (portable ? 0 : 1))
            w.bytes.withUnsafeBytes { wb in
                xq.bytes.withUnsafeBytes { xb in
                    y.withUnsafeMutableBufferPointer { yb in
                        // in two row ranges, as two threads would
                        sl_quant_matmul(Int32(type.rawValue), wb.baseAddress, cols, 0, 10, xb.baseAddress, m, yb.baseAddress, rows)
                        sl_quant_matmul(Int32(type.rawValue), wb.baseAddress, cols, 10, rows, xb.baseAddress, m, yb.baseAddress, rows)
                    }
                }
            }
            return y
        }
        let simd = run(portable: false), portable = run(portable: true)
        var failures: [String] = []
        for r in 0..<m {
            for o in 0..<rows {
                var l1: Float = 0
                for c in 0..<cols { l1 += abs(w.values[o * cols + c] * xq.values[r * cols + c]) }
                let a = simd[r * rows + o], b = portable[r * rows + o]
                if !(abs(a - b) <= 2e-5 * l1) { failures.append("row \(r) out \(o): simd \(a) portable \(b)") }
            }
        }
        #expect(failures.isEmpty, "\(type): \(failures.count) outputs differ, first: \(failures.first ?? "")")
    }

    @Test(.enabled(if: sl_quant_simd_active() == 1, "no AVX2 path on this CPU"), arguments: [false, true])
    func tileKernelsKeepExtremeQuantsExact(vnni: Bool) {
        // Both the AVX2 tiles and (where the CPU has it) the VNNI ones.
        sl_quant_force_no_vnni(vnni ? 0 : 1)
        defer { sl_quant_force_no_vnni(0) }
        // The batched (tile) kernels sum maddubs products in int16 before widening: the largest
        // quants against activations of ±127 must not saturate. Q8_0 of -128 and Q6_K at -32
        // with scale -128 are the extremes; every row must equal the single-row kernel's result.
        let cols = 256
        var q8: [UInt8] = [], q6: [UInt8] = []
        for r in 0..<9 {
            for _ in 0..<(cols / 32) { q8 += f16Bytes(0.5) + [UInt8](repeating: r % 2 == 0 ? 0x80 : 0x7F, count: 32) }
            q6 += [UInt8](repeating: 0, count: 128) + [UInt8](repeating: 0, count: 64)   // q = 0, i.e. -32
                + [UInt8](repeating: r % 2 == 0 ? 0x80 : 0x7F, count: 16) + f16Bytes(0.25)
        }
        for (type, bytes) in [(QuantType.q8_0, q8), (.q6_K, q6)] {
            let rows = 9, m = 13  // the tiles take 12 rows and more
            let x = (0..<(m * cols)).map { i in Float(i % 3 == 0 ? -1 : 1) }   // quantizes to ±127
            let xq = quantizedActivations(type, x, cols: cols)
            var batched = [Float](repeating: .nan, count: m * rows), single = batched
            bytes.withUnsafeBytes { wb in
                xq.bytes.withUnsafeBytes { xb in
                    batched.withUnsafeMutableBufferPointer { yb in
                        sl_quant_matmul(Int32(type.rawValue), wb.baseAddress, cols, 0, rows, xb.baseAddress, m, yb.baseAddress, rows)
                    }
                    single.withUnsafeMutableBufferPointer { yb in
                        for r in 0..<m {
                            sl_quant_matmul(Int32(type.rawValue), wb.baseAddress, cols, 0, rows,
                                            xb.baseAddress! + r * type.activationRowBytes(cols), 1, yb.baseAddress! + r * rows, rows)
                        }
                    }
                }
            }
            let wv = dequantize(type, bytes, rows * cols)
            let exact = (0..<(m * rows)).map { i -> Float in
                let r = i / rows, o = i % rows
                return (0..<cols).reduce(Float(0)) { $0 + wv[o * cols + $1] * xq.values[r * cols + $1] }
            }
            #expect(maxAbs(batched, single) <= 1e-3 * (exact.map(abs).max() ?? 1), "\(type): tile \(batched.prefix(3)) row \(single.prefix(3))")
            #expect(maxAbs(batched, exact) <= 1e-3 * (exact.map(abs).max() ?? 1), "\(type): tile \(batched.prefix(3)) exact \(exact.prefix(3))")
        }
    }

    // MARK: (c) AVX-512 VNNI against AVX2

    /// The same integer sums and the same float steps as AVX2, so bitwise equal results: greedy
    /// outputs do not depend on which of the two a machine has. (Repacked Q4_0/Q5_0 take VNNI's
    /// row kernel at every m where AVX2 takes the tile from 4 rows; it then follows the tile's
    /// float steps.)
    @Test(.enabled(if: sl_quant_vnni_available() == 1, "no AVX-512 VNNI on this CPU"),
          arguments: [QuantType.q4_0, .q5_0, .q8_0, .q4_K, .q5_K, .q6_K], [1, 3, 4, 5, 13, 32])
    func vnniPathMatchesAVX2Path(type: QuantType, m: Int) {
        var rng = QuantRandom(seed: 900 + UInt64(type.rawValue))
        let rows = 264, cols = type.blockSize == 256 ? 512 : 640
        var bytes = randomWeights(type, rows: rows, cols: cols, &rng).bytes
        if type == .q8_0 {  // no -128, so it repacks
            for i in bytes.indices where i % 34 >= 2 && bytes[i] == 0x80 { bytes[i] = 0x81 }
        }
        let plain = QuantizedMatrix(type: type, rows: rows, cols: cols, copying: bytes)
        let xq = quantizedActivations(type, (0..<(m * cols)).map { _ in rng.float() }, cols: cols)
        // On this thread: the switch is thread-local.
        func run(_ weights: QuantizedMatrix, vnni: Bool) -> [Float] {
            sl_quant_force_no_vnni(vnni ? 0 : 1)
            defer { sl_quant_force_no_vnni(0) }
            var y = [Float](repeating: .nan, count: m * rows)
            xq.bytes.withUnsafeBytes { xb in
                y.withUnsafeMutableBufferPointer { yb in
                    if weights.layout == .interleaved8 {
                        _ = sl_quant_x8_matmul(Int32(type.rawValue), weights.bytes.baseAddress, cols, 0, rows, xb.baseAddress, m, yb.baseAddress, rows)
                    } else {
                        sl_quant_matmul(Int32(type.rawValue), weights.bytes.baseAddress, cols, 0, rows, xb.baseAddress, m, yb.baseAddress, rows)
                    }
                }
            }
            return y
        }
        let repacked = plain.repackedForDecode()
        #expect((repacked.layout == .interleaved8) == (type != .q5_K))
        for weights in [plain, repacked] {
            let withVNNI = run(weights, vnni: true), withAVX2 = run(weights, vnni: false)
            let same = withVNNI == withAVX2  // (not in the #expect: it would print both arrays)
            #expect(same, "\(type) \(weights.layout) m=\(m): differ by up to \(maxAbs(withVNNI, withAVX2))")
        }
    }

    // m: each tail of Q8_0's 4-row passes; 264 rows: 33 groups, past its 32-group span.
    @Test(arguments: [QuantType.q4_0, .q5_0, .q8_0, .q4_K, .q6_K], [1, 2, 3, 5, 17])
    func repackedMatchesRowLayout(type: QuantType, m: Int) {
        var rng = QuantRandom(seed: 700 + UInt64(m + 100 * type.rawValue))
        let rows = 264, cols = type.blockSize == 256 ? 512 : 288
        var w = randomWeights(type, rows: rows, cols: cols, &rng)
        if type == .q8_0 {
            // GGML's quantizer never writes -128, and the repacked kernel needs that: map it to -127.
            for i in stride(from: 0, to: w.bytes.count, by: 34) { for k in (i + 2)..<(i + 34) where w.bytes[k] == 0x80 { w.bytes[k] = 0x81 } }
        }
        let plain = QuantizedMatrix(type: type, rows: rows, cols: cols, copying: w.bytes)
        let packed = plain.repackedForDecode()
        #expect(packed.layout == .interleaved8 && packed.bytes.count == plain.bytes.count)
        #expect(packed.dequantized().toArray() == plain.dequantized().toArray())
        let x = Tensor(shape: [m, cols], values: (0..<(m * cols)).map { _ in rng.float() })
        let expected = QuantizedLinear(weight: plain)(x, pool: ThreadPool(threads: 1)).toArray()
        let scale = expected.map(abs).max() ?? 1
        for threads in [1, 3] {
            let got = QuantizedLinear(weight: packed)(x, pool: ThreadPool(threads: threads)).toArray()
            #expect(maxAbs(got, expected) <= 1e-5 * scale, "\(type) m=\(m) threads=\(threads)")
            // The K types' repacked kernels keep the row kernels' float steps: greedy outputs stay put.
            if type.blockSize == 256 { #expect(got == expected, "\(type) m=\(m) threads=\(threads) not bitwise") }
        }
        // The portable path computes the same integer dots.
        sl_quant_force_portable(1)
        var portable = [Float](repeating: .nan, count: m * rows)
        let xq = quantizedActivations(type, x.toArray(), cols: cols)
        xq.bytes.withUnsafeBytes { xb in
            portable.withUnsafeMutableBufferPointer { yb in
                _ = sl_quant_x8_matmul(Int32(type.rawValue), packed.bytes.baseAddress, cols, 0, rows, xb.baseAddress, m, yb.baseAddress, rows)
            }
        }
        sl_quant_force_portable(0)
        #expect(maxAbs(portable, expected) <= 1e-5 * scale)
        // An embedding over the repacked table reads the same rows.
        let a = Tensor(zeros: [2, cols]), b = Tensor(zeros: [2, cols])
        QuantizedEmbedding(matrix: plain).gather([5, 23], into: a, scale: 2)
        QuantizedEmbedding(matrix: packed).gather([5, 23], into: b, scale: 2)
        #expect(a.toArray() == b.toArray())
    }

    @Test func repackKeepsRowLayoutWhenItCannot() {
        var rng = QuantRandom(seed: 701)
        let odd = randomWeights(.q8_0, rows: 12, cols: 64, &rng)
        #expect(QuantizedMatrix(type: .q8_0, rows: 12, cols: 64, copying: odd.bytes).repackedForDecode().layout == .rows)
        var withMin = [UInt8](repeating: 1, count: 8 * 34)
        withMin[40] = 0x80
        #expect(QuantizedMatrix(type: .q8_0, rows: 8, cols: 32, copying: withMin).repackedForDecode().layout == .rows)
        let q5 = randomWeights(.q5_K, rows: 8, cols: 256, &rng)
        #expect(QuantizedMatrix(type: .q5_K, rows: 8, cols: 256, copying: q5.bytes).repackedForDecode().layout == .rows)
        let q4 = randomWeights(.q4_K, rows: 12, cols: 256, &rng)
        #expect(QuantizedMatrix(type: .q4_K, rows: 12, cols: 256, copying: q4.bytes).repackedForDecode().layout == .rows)
    }

    @Test func activationQuantizationRoundsToNearest() {
        // One Q8_0 activation block: max 12.7 -> d = 0.1, so -0.16 -> -2 and 0 -> 0.
        var x = [Float](repeating: 0, count: 32)
        x[0] = 12.7; x[1] = -0.16; x[2] = 0.15; x[3] = -12.7
        let a = quantizedActivations(.q8_0, x, cols: 32)
        #expect(a.bytes.count == 40)
        let q = a.bytes[8..<40].map { Int8(bitPattern: $0) }
        #expect(q[0] == 127 && q[1] == -2 && q[3] == -127 && q[4] == 0)
        #expect(q[2] == 1 || q[2] == 2)  // 0.15 / 0.1 is 1.4999… or 1.5000… in f32
        #expect(abs(a.values[0] - 12.7) < 1e-5)
    }
}

// MARK: - Helpers

/// Weights as bytes in a GGML format plus the exact values they stand for.
struct PackedWeights {
    var bytes: [UInt8] = []
    var values: [Float] = []
}

struct QuantRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 16
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 24) / Float(1 << 23) - 1 }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 8) }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}

fileprivate final class ByteBox: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(_ bytes: [UInt8]) {
        pointer = .allocate(byteCount: max(bytes.count, 1), alignment: 32)
        bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    }
    deinit { pointer.deallocate() }
}

fileprivate func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
fileprivate func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
fileprivate func f16Bytes(_ v: Float) -> [UInt8] { le16(Float16(v).bitPattern) }
fileprivate func maxAbs(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

/// GGML's 12-byte packing of eight 6-bit scales and mins (Q4_K/Q5_K), written from the layout:
/// bytes 0-3: sc[0..3] | sc[4..7] top 2 bits << 6; bytes 4-7: m[0..3] | m[4..7] top bits << 6;
/// bytes 8-11: sc[4..7] low 4 bits | m[4..7] low 4 bits << 4.
fileprivate func packKScales(_ sc: [UInt8], _ mn: [UInt8]) -> [UInt8] {
    var q = [UInt8](repeating: 0, count: 12)
    for j in 0..<4 {
        q[j] = sc[j] | (sc[j + 4] >> 4) << 6
        q[j + 4] = mn[j] | (mn[j + 4] >> 4) << 6
        q[j + 8] = (sc[j + 4] & 0xF) | (mn[j + 4] & 0xF) << 4
    }
    return q
}

fileprivate func dequantize(_ type: QuantType, _ bytes: [UInt8], _ n: Int) -> [Float] {
    var y = [Float](repeating: .nan, count: n)
    bytes.withUnsafeBytes { b in
        y.withUnsafeMutableBufferPointer { sl_dequantize_row(Int32(type.rawValue), b.baseAddress, $0.baseAddress, n) }
    }
    return y
}

/// Activations quantized by the kernel library, the values they stand for, and d/2 per element.
fileprivate func quantizedActivations(_ type: QuantType, _ x: [Float], cols: Int) -> (bytes: [UInt8], values: [Float], halfStep: [Float]) {
    let m = x.count / cols, rowBytes = type.activationRowBytes(cols)
    var bytes = [UInt8](repeating: 0, count: m * rowBytes)
    var values = [Float](repeating: 0, count: x.count)
    bytes.withUnsafeMutableBytes { b in
        x.withUnsafeBufferPointer { xp in
            values.withUnsafeMutableBufferPointer { v in
                for r in 0..<m {
                    sl_quantize_act_row(Int32(type.rawValue), xp.baseAddress! + r * cols, b.baseAddress! + r * rowBytes, cols)
                    sl_dequantize_act_row(Int32(type.rawValue), b.baseAddress! + r * rowBytes, v.baseAddress! + r * cols, cols)
                }
            }
        }
    }
    let block = type.blockSize == 1 ? 0 : type.blockSize
    var half = [Float](repeating: 0, count: x.count)
    if block > 0 {
        for start in stride(from: 0, to: x.count, by: block) {
            let amax = x[start..<(start + block)].map(abs).max()!
            for i in start..<(start + block) { half[i] = amax / 127 / 2 }
        }
    }
    return (bytes, values, half)
}

/// Random valid blocks for `rows` × `cols` weights, packed from random logical values.
func randomWeights(_ type: QuantType, rows: Int, cols: Int, _ rng: inout QuantRandom) -> PackedWeights {
    var p = PackedWeights()
    func scale(_ lo: Float, _ hi: Float) -> Float {
        Float(Float16(lo + (hi - lo) * (rng.float() + 1) / 2))  // exactly representable in f16
    }
    for _ in 0..<(rows * cols / type.blockSize) {
        switch type {
        case .f32:
            let v = rng.float()
            p.bytes += le32(v.bitPattern); p.values.append(v)
        case .f16:
            let v = Float(Float16(rng.float()))
            p.bytes += f16Bytes(v); p.values.append(v)
        case .bf16:
            let v = Float(bitPattern: rng.float().bitPattern & 0xFFFF_0000)
            p.bytes += le16(UInt16(v.bitPattern >> 16)); p.values.append(v)
        case .q4_0:
            let d = scale(0.01, 0.1)
            let q = (0..<32).map { _ in rng.int(0...15) }
            p.bytes += f16Bytes(d) + (0..<16).map { UInt8(q[$0] | q[$0 + 16] << 4) }
            p.values += q.map { Float($0 - 8) * d }
        case .q5_0:
            let d = scale(0.01, 0.1)
            let q = (0..<32).map { _ in rng.int(0...31) }
            var qh: UInt32 = 0
            for j in 0..<32 where q[j] & 16 != 0 { qh |= 1 << UInt32(j) }
            p.bytes += f16Bytes(d) + le32(qh) + (0..<16).map { UInt8((q[$0] & 15) | (q[$0 + 16] & 15) << 4) }
            p.values += q.map { Float($0 - 16) * d }
        case .q8_0:
            let d = scale(0.001, 0.01)
            let q = (0..<32).map { _ in rng.int(-128...127) }
            p.bytes += f16Bytes(d) + q.map { UInt8(bitPattern: Int8($0)) }
            p.values += q.map { Float($0) * d }
        case .q4_K, .q5_K:
            let five = type == .q5_K
            let d = scale(0.001, 0.01), dmin = scale(0.001, 0.01)
            let sc = (0..<8).map { _ in UInt8(rng.int(0...63)) }, mn = (0..<8).map { _ in UInt8(rng.int(0...63)) }
            let q = (0..<256).map { _ in rng.int(0...(five ? 31 : 15)) }
            p.bytes += f16Bytes(d) + f16Bytes(dmin) + packKScales(sc, mn)
            if five {
                for l in 0..<32 {
                    var bits: UInt8 = 0
                    for j in 0..<8 where q[32 * j + l] & 16 != 0 { bits |= UInt8(1) << UInt8(j) }
                    p.bytes.append(bits)
                }
            }
            for i in 0..<4 {  // 32 bytes: sub-block 2i in low nibbles, 2i + 1 in high nibbles
                p.bytes += (0..<32).map { l in UInt8((q[64 * i + l] & 15) | (q[64 * i + 32 + l] & 15) << 4) }
            }
            for j in 0..<8 {
                for l in 0..<32 { p.values.append(d * Float(sc[j]) * Float(q[32 * j + l]) - dmin * Float(mn[j])) }
            }
        case .q6_K:
            let d = scale(0.0005, 0.005)
            let sc = (0..<16).map { _ in Int8(rng.int(-128...127)) }
            let q = (0..<256).map { _ in rng.int(0...63) }
            var ql = [UInt8](repeating: 0, count: 128), qh = [UInt8](repeating: 0, count: 64)
            for h in 0..<2 {
                for l in 0..<32 {
                    let q1 = q[128 * h + l], q2 = q[128 * h + 32 + l], q3 = q[128 * h + 64 + l], q4 = q[128 * h + 96 + l]
                    ql[64 * h + l] = UInt8((q1 & 15) | (q3 & 15) << 4)
                    ql[64 * h + 32 + l] = UInt8((q2 & 15) | (q4 & 15) << 4)
                    qh[32 * h + l] = UInt8((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6)
                }
            }
            p.bytes += ql + qh + sc.map { UInt8(bitPattern: $0) } + f16Bytes(d)
            for e in 0..<256 { p.values.append(d * Float(sc[e / 16]) * Float(q[e] - 32)) }
        }
    }
    return p
}
