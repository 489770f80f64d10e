import COpenBLAS
import ShardlineKernels

/// One byte per weight with an f32 scale per output channel, quantized at load: FP8 E4M3 (vLLM's
/// `--quantization fp8` layout) or symmetric int8. Activations stay f32 (weight-only): each
/// chunk of weight rows is widened to a small f32 tile and multiplied by OpenBLAS, so a row is
/// widened once per call whatever the batch size. Memory is a quarter of f32.
public struct ChannelQuantizedLinear: LinearLayer, @unchecked Sendable {
    public enum Code: Sendable { case e4m3, int8 }
    public let code: Code
    public let inFeatures: Int
    public let outFeatures: Int
    /// [out, in] E4M3 bytes.
    let codes: QuantizedStorage
    let scales: [Float]
    public let bias: Tensor?

    public init(weight: Tensor, bias: Tensor? = nil, code: Code) {
        let rows = weight.shape[0], cols = weight.shape[1]
        self.code = code
        inFeatures = cols
        outFeatures = rows
        self.bias = bias
        codes = QuantizedStorage(count: rows * cols)
        var s = [Float](repeating: 1, count: rows)
        let out = codes.pointer.assumingMemoryBound(to: UInt8.self)
        for r in 0..<rows {
            let row = weight.data + r * cols
            var amax: Float = 0
            for c in 0..<cols { amax = max(amax, abs(row[c])) }
            let scale = amax > 0 ? amax / (code == .e4m3 ? E4M3.max : 127) : 1
            s[r] = scale
            for c in 0..<cols {
                out[r * cols + c] = code == .e4m3 ? E4M3.encode(row[c] / scale)
                    : UInt8(bitPattern: Int8(max(-127, min(127, (row[c] / scale).rounded()))))
            }
        }
        scales = s
        BLAS.configureOnce
    }

    public var weightBytes: Int { codes.count + 4 * scales.count + 4 * (bias?.count ?? 0) }

    /// The f32 weights the codes stand for.
    public func dequantized() -> Tensor {
        let t = Tensor(zeros: [outFeatures, inFeatures])
        for r in 0..<outFeatures { widen(row: r, into: t.row(r)) }
        return t
    }

    func widen(row r: Int, into dst: UnsafeMutablePointer<Float>) {
        let src = codes.pointer.assumingMemoryBound(to: UInt8.self) + r * inFeatures
        switch code {
        case .e4m3: sl_fp8_e4m3_to_f32(src, scales[r], dst, inFeatures)
        case .int8: sl_int8_to_f32(src, scales[r], dst, inFeatures)
        }
    }

    public func callAsFunction(_ x: Tensor, pool: ThreadPool) -> Tensor {
        precondition(x.rowLength == inFeatures, "ChannelQuantizedLinear: input rows of \(x.rowLength), expected \(inFeatures)")
        let m = x.rowCount, n = outFeatures, k = inFeatures
        let out = Tensor(zeros: [m, n])
        guard m > 0 else { return out }
        let xp = x.data, op = out.data, bp = bias?.data
        let tileRows = 32
        let chunks = min(max(1, n / tileRows), pool.threadCount == 1 ? 1 : pool.threadCount * 4)
        pool.run(chunks: chunks) { c in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            guard lo < hi else { return }
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * k)
            defer { tile.deallocate() }
            var start = lo
            while start < hi {
                let rows = min(tileRows, hi - start)
                for r in 0..<rows { widen(row: start + r, into: tile + r * k) }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(rows), Int32(k),
                            1, xp, Int32(k), tile, Int32(k), 0, op + start, Int32(n))
                start += rows
            }
            if let bp {
                for r in 0..<m { for j in lo..<hi { op[r * n + j] += bp[j] } }
            }
        }
        return out
    }
}

/// OCP FP8 E4M3 ("fn"): 1 sign, 4 exponent (bias 7), 3 mantissa bits; 0x7F/0xFF are NaN, no
/// infinities, largest finite 448.
public enum E4M3 {
    public static let max: Float = 448

    /// Every code's value, from the C target's table.
    public static func decode(_ code: UInt8) -> Float {
        var v: Float = 0
        var c = code
        sl_fp8_e4m3_to_f32(&c, 1, &v, 1)
        return v
    }

    /// The 127 finite non-negative values, ascending (code = index).
    static let positives: [Float] = (0..<127).map { decode(UInt8($0)) }

    /// Nearest code (ties to the even code), saturating at ±448.
    public static func encode(_ v: Float) -> UInt8 {
        let sign: UInt8 = v < 0 ? 0x80 : 0
        let a = Swift.min(abs(v), max)
        var lo = 0, hi = positives.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if positives[mid] <= a { lo = mid } else { hi = mid }
        }
        let dLo = a - positives[lo], dHi = positives[hi] - a
        let code = dLo < dHi || (dLo == dHi && lo % 2 == 0) ? lo : hi
        return sign | UInt8(code)
    }
}
