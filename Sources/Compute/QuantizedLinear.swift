import ShardlineKernels

/// GGML tensor types with a kernel here; raw values are GGML's (what GGUF stores).
public enum QuantType: Int, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q5_0 = 6, q8_0 = 8, q4_K = 12, q5_K = 13, q6_K = 14, bf16 = 30

    /// Elements per block (1 for the float types).
    public var blockSize: Int { sl_qtype_block_size(Int32(rawValue)) }
    /// Bytes per block.
    public var bytesPerBlock: Int { sl_qtype_block_bytes(Int32(rawValue)) }
    /// Bytes of a row of `n` elements; nil when `n` is not a multiple of the block size.
    public func rowBytes(_ n: Int) -> Int? {
        guard n >= 0, n % blockSize == 0 else { return nil }
        return n / blockSize * bytesPerBlock
    }
    /// Bytes of one activation row of `n` elements quantized for this weight type.
    public func activationRowBytes(_ n: Int) -> Int { sl_quant_act_row_bytes(Int32(rawValue), n) }

    public var description: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .q4_0: "Q4_0"
        case .q5_0: "Q5_0"
        case .q8_0: "Q8_0"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        }
    }
}

/// Owned, 64-byte aligned bytes of a quantized matrix.
public final class QuantizedStorage: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let count: Int

    public init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
        MemoryTracker.allocated(count)
    }

    deinit {
        pointer.deallocate()
        MemoryTracker.released(count)
    }
}

/// A [rows, cols] weight matrix in a GGML block format, row-major, rows contiguous (a GGUF
/// tensor's data: GGUF dims (ne0 = cols, ne1 = rows)). The bytes are owned or borrowed from a
/// memory map; `owner` keeps whatever backs them alive.
public struct QuantizedMatrix: @unchecked Sendable {
    /// How the blocks are ordered.
    public enum Layout: Sendable {
        /// GGML's: each row's blocks contiguous.
        case rows
        /// Q4_0/Q5_0/Q8_0/Q4_K/Q6_K repacked 8 rows at a time for decode (`sl_quant_repack_x8`): same
        /// bytes, no row access.
        case interleaved8
    }

    public let type: QuantType
    public let rows: Int
    public let cols: Int
    public let bytes: UnsafeRawBufferPointer
    public let owner: AnyObject?
    public let layout: Layout

    /// Borrows `bytes` (for example a window of a memory-mapped GGUF file), kept alive by `owner`.
    public init(type: QuantType, rows: Int, cols: Int, bytes: UnsafeRawBufferPointer, owner: AnyObject?) {
        self.init(type: type, rows: rows, cols: cols, bytes: bytes, owner: owner, layout: .rows)
    }

    private init(type: QuantType, rows: Int, cols: Int, bytes: UnsafeRawBufferPointer, owner: AnyObject?, layout: Layout) {
        guard let rowBytes = type.rowBytes(cols) else {
            preconditionFailure("QuantizedMatrix: \(cols) columns is not a multiple of \(type)'s block of \(type.blockSize)")
        }
        precondition(rows >= 0 && bytes.count >= rows * rowBytes,
                     "QuantizedMatrix: \(bytes.count) bytes for \(rows)×\(cols) \(type) (\(rows * rowBytes) needed)")
        self.type = type
        self.rows = rows
        self.cols = cols
        self.bytes = UnsafeRawBufferPointer(rebasing: bytes[0..<(rows * rowBytes)])
        self.owner = owner
        self.layout = layout
    }

    /// Copies `data` into owned storage.
    public init(type: QuantType, rows: Int, cols: Int, copying data: [UInt8]) {
        let storage = QuantizedStorage(count: data.count)
        data.withUnsafeBytes { storage.pointer.copyMemory(from: $0.baseAddress!, byteCount: data.count) }
        self.init(type: type, rows: rows, cols: cols,
                  bytes: UnsafeRawBufferPointer(start: storage.pointer, count: data.count), owner: storage)
    }

    /// Bytes of one row.
    public var rowBytes: Int { type.rowBytes(cols)! }

    /// This matrix in the layout its decode kernel runs fastest on: Q4_0, Q5_0, Q8_0, Q4_K and
    /// Q6_K repacked 8 rows at a time (one activation row: 1.4x on the 262k-row Q8_0 Gemma 3 head,
    /// 1.8x on Q5_0, in `quant_repack_x8.c`'s measurement; on Gemma's 640x2048 matrices 1.6-2x
    /// on Q4_K and 1.2-1.4x on Q6_K); itself for other types, and when the rows are not a
    /// multiple of 8 or a Q8_0 quant is -128.
    public func repackedForDecode() -> QuantizedMatrix {
        guard repackable else { return self }
        let storage = QuantizedStorage(count: bytes.count)
        return repacked(into: storage.pointer, owner: storage) ?? self
    }

    /// `repackedForDecode()` with its bytes in `arena` (copied there when there is no repacked
    /// layout), so decode streams them from huge pages; itself when the arena is full.
    public func placed(in arena: WeightArena) -> QuantizedMatrix {
        guard let dst = arena.allocate(bytes.count) else { return repackedForDecode() }
        if repackable, let packed = repacked(into: dst, owner: arena) { return packed }
        dst.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        return QuantizedMatrix(type: type, rows: rows, cols: cols, bytes: UnsafeRawBufferPointer(start: dst, count: bytes.count),
                               owner: arena, layout: layout)
    }

    private var repackable: Bool {
        sl_quant_x8_group_block_bytes(Int32(type.rawValue)) > 0 && layout == .rows && rows % 8 == 0 && rows > 0
    }

    private func repacked(into dst: UnsafeMutableRawPointer, owner: AnyObject) -> QuantizedMatrix? {
        guard sl_quant_repack_x8(Int32(type.rawValue), bytes.baseAddress!, rows, cols, dst) == bytes.count else { return nil }
        return QuantizedMatrix(type: type, rows: rows, cols: cols, bytes: UnsafeRawBufferPointer(start: dst, count: bytes.count),
                               owner: owner, layout: .interleaved8)
    }

    /// Row `r` as f32, in either layout.
    public func dequantizeRow(_ r: Int, into dst: UnsafeMutablePointer<Float>) {
        precondition(r >= 0 && r < rows, "QuantizedMatrix: row \(r) of \(rows)")
        switch layout {
        case .rows: sl_dequantize_row(Int32(type.rawValue), bytes.baseAddress! + r * rowBytes, dst, cols)
        case .interleaved8: sl_quant_x8_dequantize_row(Int32(type.rawValue), bytes.baseAddress!, cols, r, dst)
        }
    }

    /// The given rows, in the given order (copied).
    public func gatheringRows(_ order: [Int]) -> QuantizedMatrix {
        let storage = QuantizedStorage(count: order.count * rowBytes)
        for (i, r) in order.enumerated() { (storage.pointer + i * rowBytes).copyMemory(from: row(r), byteCount: rowBytes) }
        return QuantizedMatrix(type: type, rows: order.count, cols: cols,
                               bytes: UnsafeRawBufferPointer(start: storage.pointer, count: storage.count), owner: storage)
    }

    /// Rows `rows` (borrowed, no copy) and columns `cols` (copied, whole blocks only): a
    /// tensor-parallel shard of the matrix. Nil when the columns do not fall on block boundaries.
    public func slice(rows: Range<Int>, cols: Range<Int>? = nil) -> QuantizedMatrix? {
        precondition(layout == .rows, "QuantizedMatrix: slicing a repacked matrix")
        precondition(rows.lowerBound >= 0 && rows.upperBound <= self.rows, "QuantizedMatrix: rows \(rows) of \(self.rows)")
        let rowWindow = UnsafeRawBufferPointer(rebasing: bytes[(rows.lowerBound * rowBytes)..<(rows.upperBound * rowBytes)])
        guard let cols, cols != 0..<self.cols else {
            return QuantizedMatrix(type: type, rows: rows.count, cols: self.cols, bytes: rowWindow, owner: owner)
        }
        let block = type.blockSize
        guard cols.lowerBound % block == 0, cols.count % block == 0, cols.upperBound <= self.cols else { return nil }
        let start = cols.lowerBound / block * type.bytesPerBlock, width = cols.count / block * type.bytesPerBlock
        let storage = QuantizedStorage(count: rows.count * width)
        for r in 0..<rows.count {
            (storage.pointer + r * width).copyMemory(from: rowWindow.baseAddress! + r * rowBytes + start, byteCount: width)
        }
        return QuantizedMatrix(type: type, rows: rows.count, cols: cols.count,
                               bytes: UnsafeRawBufferPointer(start: storage.pointer, count: storage.count), owner: storage)
    }

    public func row(_ r: Int) -> UnsafeRawPointer {
        precondition(layout == .rows, "QuantizedMatrix: no rows in a repacked matrix")
        precondition(r >= 0 && r < rows, "QuantizedMatrix: row \(r) of \(rows)")
        return bytes.baseAddress! + r * rowBytes
    }

    /// The f32 matrix these blocks stand for (reference dequantization).
    public func dequantized() -> Tensor {
        let t = Tensor(zeros: [rows, cols])
        for r in 0..<rows { dequantizeRow(r, into: t.row(r)) }
        return t
    }
}

/// y = x · Wᵀ + b for quantized W [outFeatures, inFeatures], like `Linear`: [m, in] → [m, out].
/// x is quantized to 8 bits once per call (f32 kept for F32/F16/BF16 weights), then weight rows
/// are split over the pool; each thread runs the C kernel over all m activation rows (from 4 rows
/// on, quantized types unpack 8 weight rows at a time into a tile all m rows reuse).
public struct QuantizedLinear: Sendable {
    public let weight: QuantizedMatrix
    public let bias: Tensor?
    private let projection: QuantizedProjections

    public init(weight: QuantizedMatrix, bias: Tensor? = nil) {
        if let bias { precondition(bias.count == weight.rows, "QuantizedLinear: bias \(bias.shape) for \(weight.rows) rows") }
        self.weight = weight
        self.bias = bias
        projection = QuantizedProjections([(weight, bias)])
    }

    public var inFeatures: Int { weight.cols }
    public var outFeatures: Int { weight.rows }

    public func callAsFunction(_ x: Tensor, pool: ThreadPool = .shared) -> Tensor {
        let out = Tensor(unfilled: [x.rowCount, outFeatures])  // the kernels write every element
        forward(x, into: out, pool: pool)
        return out
    }

    public func forward(_ x: Tensor, into out: Tensor, pool: ThreadPool = .shared) {
        projection.forward(x, into: out, pool: pool)
    }

    public func withRowArgmax(_ x: Tensor, pool: ThreadPool) -> (output: Tensor, argmax: [Int]?) {
        let out = Tensor(unfilled: [x.rowCount, outFeatures])
        return (out, projection.forwardWithArgmax(x, into: out, pool: pool))
    }

    /// The f32 weights (for tests and as a fallback path through `Linear`).
    public func dequantized() -> Tensor { weight.dequantized() }
}
