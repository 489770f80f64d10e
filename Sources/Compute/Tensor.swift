#if canImport(Glibc)
import Glibc
#endif
import ShardlineKernels

/// Owned, zeroed, 64-byte aligned f32 memory, shared by the tensors that view it. Large buffers
/// (KV caches) come straight from mmap: zero pages that cost nothing until touched, advised for
/// transparent huge pages (`HugePageMapping`). In 4 KB pages a decode step that wrote the first
/// row of a page took a fault per layer for K and one for V: with Gemma 270M's 1 KB rows every
/// fourth token, 36 faults of ~5 us (that step's 18 KV writes took 150-300 us instead of ~9); a
/// 2 MB page faults once per 2048 rows. Per-step buffers stay below the threshold and malloc
/// keeps them warm (`sl_malloc_reuse_below`): with a 1 MB threshold a step's logits (262144 x 4
/// bytes for Gemma) were a fresh mapping every token, 262 page faults and an munmap per token,
/// 32 times that at 32 sequences.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    private let mapped: Bool
    private static let mmapThreshold = 64 << 20

    private static let mallocPolicy: Void = { _ = sl_malloc_reuse_below(mmapThreshold) }()

    /// `zeroed: false` leaves heap memory as malloc gives it: for outputs a kernel writes whole
    /// (a step's 1 MB of logits was zeroed only to be overwritten).
    public init(count: Int, zeroed: Bool = true) {
        _ = Self.mallocPolicy
        self.count = count
        let bytes = max(count, 1) * 4
        if bytes >= Self.mmapThreshold, let p = HugePageMapping.map(bytes: bytes) {
            pointer = p.bindMemory(to: Float.self, capacity: max(count, 1))
            mapped = true
        } else {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            pointer = zeroed ? raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
                             : raw.bindMemory(to: Float.self, capacity: max(count, 1))
            mapped = false
        }
        MemoryTracker.allocated(bytes)
    }

    deinit {
        let bytes = max(count, 1) * 4
        if mapped { HugePageMapping.unmap(pointer, bytes: bytes) } else { pointer.deallocate() }
        MemoryTracker.released(bytes)
    }
}

/// A dense row-major f32 tensor: a shape over a window of shared storage.
/// Views (`rows`, `reshaped`) alias their parent, as in PyTorch; `copy()` makes an independent tensor.
public struct Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let storage: TensorStorage
    public let offset: Int

    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *))
        self.offset = 0
    }

    /// A tensor whose every element the caller writes before anything reads it.
    init(unfilled shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *), zeroed: false)
        self.offset = 0
    }

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "Tensor: \(values.count) values for shape \(shape)")
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { storage.pointer.update(from: base, count: values.count) }
        }
    }

    init(shape: [Int], storage: TensorStorage, offset: Int) {
        precondition(offset + shape.reduce(1, *) <= storage.count, "Tensor: view outside storage")
        self.shape = shape
        self.storage = storage
        self.offset = offset
    }

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    /// Elements in one row (the last dimension).
    public var rowLength: Int { shape.last ?? 1 }
    public var rowCount: Int { rowLength == 0 ? 0 : count / rowLength }
    public var data: UnsafeMutablePointer<Float> { storage.pointer + offset }

    public func row(_ i: Int) -> UnsafeMutablePointer<Float> {
        precondition(i >= 0 && i < rowCount, "Tensor: row \(i) of \(rowCount)")
        return data + i * rowLength
    }

    /// Rows `[range]` of a tensor viewed as [rows, rowLength].
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= rowCount, "Tensor: rows \(range) of \(rowCount)")
        return Tensor(shape: [range.count, rowLength], storage: storage, offset: offset + range.lowerBound * rowLength)
    }

    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "Tensor: cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, storage: storage, offset: offset)
    }

    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        t.data.update(from: data, count: count)
        return t
    }

    public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public subscript(row: Int, column: Int) -> Float {
        get { self.row(row)[column] }
        nonmutating set { self.row(row)[column] = newValue }
    }
}

extension Tensor {
    /// A new [rows.count, rowLength] tensor holding the given rows, in order.
    public func gatherRows(_ rows: [Int]) -> Tensor {
        let out = Tensor(zeros: [rows.count, rowLength])
        for (i, r) in rows.enumerated() { out.row(i).update(from: row(r), count: rowLength) }
        return out
    }

    /// `splittingColumns`, but with one row the blocks are views of it, not copies: for a
    /// caller done with `self` (q/k/v of one decode row).
    public func columnBlocks(_ widths: [Int]) -> [Tensor] {
        guard rowCount == 1 else { return splittingColumns(widths) }
        precondition(widths.reduce(0, +) == rowLength, "Tensor: columns \(widths) of rows of \(rowLength)")
        var column = offset
        return widths.map { width in
            defer { column += width }
            return Tensor(shape: [1, width], storage: storage, offset: column)
        }
    }

    /// Consecutive column blocks of a [rows, Σ widths] tensor as new [rows, width] tensors
    /// (q/k/v out of one fused projection).
    public func splittingColumns(_ widths: [Int]) -> [Tensor] {
        precondition(widths.reduce(0, +) == rowLength, "Tensor: columns \(widths) of rows of \(rowLength)")
        var column = 0
        return widths.map { width in
            let part = Tensor(zeros: [rowCount, width])
            for r in 0..<rowCount where width > 0 { part.row(r).update(from: row(r) + column, count: width) }
            column += width
            return part
        }
    }
}
