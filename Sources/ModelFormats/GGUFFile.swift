/// One tensor of a GGUF file: its info and its bytes, a view into the mapped file (kept alive).
///
/// Shape order: GGUF stores ggml's `ne`, innermost dimension first. `ne[0]` is the row length
/// (the contiguous dimension, the one quantization blocks run along), `ne[1]` the number of rows
/// of a matrix. A linear layer mapping 640 → 1024 features has `ne == [640, 1024]`: 1024 rows of
/// 640 inputs, which is PyTorch's `[out, in] == [1024, 640]` weight. `shape` gives that
/// row-major view (`ne` reversed), the same order safetensors and `TensorData` use.
public struct GGUFTensor: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    /// ggml order: `ne[0]` is the innermost (contiguous, row-length) dimension. 0 to 4 entries.
    public let ne: [Int]
    /// Offset of the tensor's bytes from the start of the data section (a multiple of the alignment).
    public let offset: Int
    /// Offset of the tensor's bytes from the start of the file.
    public let fileOffset: Int
    /// Exactly the tensor's bytes: `rowCount × type.rowBytes(elements: rowLength)`.
    public let bytes: UnsafeRawBufferPointer
    let file: MappedFile

    /// Row-major ("PyTorch") shape, outermost first: `ne` reversed. `[rows, cols]` for a matrix.
    public var shape: [Int] { ne.reversed() }
    /// Elements per row: `ne[0]` (1 for a 0-dimensional tensor).
    public var rowLength: Int { ne.first ?? 1 }
    /// Number of rows: the product of `ne[1...]`.
    public var rowCount: Int { ne.dropFirst().reduce(1, *) }
    public var elementCount: Int { ne.reduce(1, *) }
    public var byteCount: Int { bytes.count }
    /// Bytes per row, `type.rowBytes(elements: rowLength)` (always valid for an opened tensor).
    public var rowBytes: Int { type.rowBytes(elements: rowLength) ?? 0 }
    public var path: String { file.path }
    /// The mapping the bytes live in: hold it to keep `bytes` valid.
    public var mapping: MappedFile { file }

    /// Slab `index` of a 3-D tensor (its outermost dimension) as a 2-D tensor named
    /// "name[index]", sharing the mapping: one expert of llama.cpp's merged `ffn_*_exps`
    /// tensors. Nil when the tensor is not 3-D or `index` is out of range.
    public func slab(_ index: Int) -> GGUFTensor? {
        guard ne.count == 3, (0..<ne[2]).contains(index) else { return nil }
        let size = rowBytes * ne[1], start = index * size
        return GGUFTensor(name: "\(name)[\(index)]", type: type, ne: Array(ne.prefix(2)), offset: offset + start,
                          fileOffset: fileOffset + start, bytes: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + size)]), file: file)
    }

    /// The tensor as a `TensorData` (row-major `shape`) for the plain types (F32, F16, BF16, F64,
    /// I8…I64); quantized types throw, since `DType` cannot describe them.
    public func tensorData() throws -> TensorData {
        guard let dtype = type.dtype else {
            throw ModelFormatError.badTensor(path: path, tensor: name, reason: "is \(type.name), a quantized type with no DType; dequantize it instead")
        }
        return TensorData(name: name, dtype: dtype, shape: shape, bytes: bytes, file: file)
    }
}

/// A GGUF model file (versions 2 and 3, little-endian), memory-mapped and validated completely at
/// open: every metadata value is parsed, every tensor's bytes are located inside the file, so later
/// reads cannot go out of bounds. Counts and lengths are checked against the file size before
/// anything is allocated for them, so a corrupt file fails with a `GGUFError` instead of
/// exhausting memory, crashing or hanging.
///
/// Layout: "GGUF", u32 version, u64 tensor count, u64 KV count, the KVs (string key, u32 value type,
/// value), the tensor infos (string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset),
/// padding to `general.alignment` (default 32), then the data section the offsets are relative to.
public struct GGUFFile: Sendable {
    public let path: String
    public let version: Int
    public let metadata: GGUFMetadata
    /// Tensors in file order.
    public let tensors: [GGUFTensor]
    /// `general.alignment`, or 32 when absent.
    public let alignment: Int
    /// File offset of the data section (a multiple of `alignment`).
    public let dataOffset: Int
    public let fileSize: Int
    private let index: [String: Int]

    public static let defaultAlignment = 32
    public static let maxDims = 4
    /// Deepest array-of-array nesting accepted (real files use at most 2).
    public static let maxArrayDepth = 16
    /// Largest `general.alignment` accepted.
    public static let maxAlignment = 1 << 30

    public init(path: String) throws {
        try self.init(mapped: MappedFile(path: path))
    }

    public init(mapped file: MappedFile) throws {
        #if _endian(big)
        throw GGUFError.unsupportedVersion(path: file.path, version: 0, reason: "big-endian hosts are not supported")
        #else
        let path = file.path
        var r = GGUFReader(buffer: file.bytes(offset: 0, length: file.count), path: path)

        // Header.
        let magic = Array("GGUF".utf8)
        let head = Array(r.buffer.prefix(4))
        guard head == magic else {
            if head.count < 4, head == Array(magic.prefix(head.count)) {
                throw GGUFError.truncated(path: path, section: "the header", offset: 0)
            }
            throw GGUFError.badMagic(path: path, found: head)
        }
        r.position = 4
        let version = try r.scalar(UInt32.self)
        if version == 1 {
            throw GGUFError.unsupportedVersion(path: path, version: version, reason: "GGUF v1 (the 2023 pre-release layout) is not supported; re-convert the model with a current llama.cpp")
        }
        if version & 0xFFFF == 0, (1...3).contains(version.byteSwapped) {
            throw GGUFError.unsupportedVersion(path: path, version: version.byteSwapped, reason: "big-endian GGUF files are not supported")
        }
        guard version == 2 || version == 3 else {
            throw GGUFError.unsupportedVersion(path: path, version: version, reason: "only versions 2 and 3 are supported")
        }
        let rawTensorCount = try r.scalar(UInt64.self)
        let rawKVCount = try r.scalar(UInt64.self)
        // Smallest tensor info: 8-byte name length, u32 n_dims, u32 type, u64 offset.
        let tensorCount = try r.count(rawTensorCount, minimumSize: 24, what: "tensor count", checkRemaining: false)
        // Smallest KV: 8-byte key length, u32 type, a 1-byte value.
        let kvCount = try r.count(rawKVCount, minimumSize: 13, what: "metadata key count", checkRemaining: false)

        // Metadata.
        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        keys.reserveCapacity(min(kvCount, 1 << 16))
        for i in 0..<kvCount {
            r.section = "metadata entry #\(i)"
            let key = try r.string(what: "key length of metadata entry #\(i)")
            r.section = "metadata key '\(key)'"
            let type = try r.scalar(UInt32.self)
            let value = try r.value(type: type, key: key, depth: 0)
            guard values[key] == nil else { throw GGUFError.duplicateKey(path: path, key: key) }
            keys.append(key)
            values[key] = value
        }
        let metadata = GGUFMetadata(path: path, keys: keys, values: values)

        var alignment = Self.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard let a = value.intValue, a > 0, a <= Self.maxAlignment, a & (a - 1) == 0 else {
                throw GGUFError.badMetadata(path: path, key: "general.alignment", reason: "\(value) (\(value.typeName)) is not a power of two between 1 and \(Self.maxAlignment)")
            }
            alignment = a
        }

        // Tensor infos.
        struct Info { var name: String; var type: GGMLType; var ne: [Int]; var offset: UInt64; var byteCount: Int }
        var infos: [Info] = []
        infos.reserveCapacity(min(tensorCount, 1 << 16))
        var index: [String: Int] = [:]
        for i in 0..<tensorCount {
            r.section = "tensor info #\(i)"
            let name = try r.string(what: "name length of tensor info #\(i)")
            r.section = "tensor info '\(name)'"
            func bad(_ reason: String) -> GGUFError { .badTensor(path: path, tensor: name, reason: reason) }
            let nDims = try r.scalar(UInt32.self)
            guard nDims <= Self.maxDims else { throw bad("n_dims \(nDims) exceeds \(Self.maxDims)") }
            var ne: [Int] = []
            for _ in 0..<Int(nDims) {
                let d = try r.scalar(UInt64.self)
                guard let di = Int(exactly: d), di <= Int(Int64.max) else { throw bad("dimension \(d) is too large") }
                ne.append(di)
            }
            let typeID = try r.scalar(UInt32.self)
            guard let type = GGMLType(rawValue: typeID) else {
                throw GGUFError.unknownTensorType(path: path, tensor: name, typeID: typeID)
            }
            let offset = try r.scalar(UInt64.self)
            guard index[name] == nil else { throw GGUFError.duplicateTensor(path: path, tensor: name) }

            var rows = 1
            for d in ne.dropFirst() {
                let (p, overflow) = rows.multipliedReportingOverflow(by: d)
                guard !overflow else { throw bad("element count of ne \(ne) overflows") }
                rows = p
            }
            let rowLength = ne.first ?? 1
            guard !rowLength.multipliedReportingOverflow(by: rows).overflow else {
                throw bad("element count of ne \(ne) overflows")
            }
            guard let rowBytes = type.rowBytes(elements: rowLength) else {
                throw bad("row length ne[0] = \(rowLength) is not a multiple of the \(type.name) block size \(type.blockSize)")
            }
            let (byteCount, overflow) = rowBytes.multipliedReportingOverflow(by: rows)
            guard !overflow else { throw bad("byte size of ne \(ne) as \(type.name) overflows") }
            index[name] = infos.count
            infos.append(Info(name: name, type: type, ne: ne, offset: offset, byteCount: byteCount))
        }

        // Data section.
        let dataOffset = (r.position + alignment - 1) / alignment * alignment
        let dataSize = max(0, file.count - dataOffset)
        var tensors: [GGUFTensor] = []
        tensors.reserveCapacity(infos.count)
        for info in infos {
            guard info.offset % UInt64(alignment) == 0 else {
                throw GGUFError.misalignedTensor(path: path, tensor: info.name, offset: info.offset, alignment: alignment)
            }
            guard info.offset <= UInt64(dataSize), info.byteCount <= dataSize - Int(info.offset) else {
                throw GGUFError.tensorOutOfBounds(path: path, tensor: info.name, offset: info.offset, byteCount: info.byteCount, dataSize: dataSize)
            }
            let offset = Int(info.offset)
            tensors.append(GGUFTensor(
                name: info.name, type: info.type, ne: info.ne, offset: offset, fileOffset: dataOffset + offset,
                bytes: file.bytes(offset: dataOffset + offset, length: info.byteCount), file: file))
        }
        let ranges = tensors.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.offset < a.offset + a.byteCount {
            throw GGUFError.badTensor(path: path, tensor: b.name, reason: "data at offset \(b.offset) overlaps tensor '\(a.name)' (\(a.offset)..<\(a.offset + a.byteCount))")
        }

        self.path = path
        self.version = Int(version)
        self.metadata = metadata
        self.tensors = tensors
        self.alignment = alignment
        self.dataOffset = dataOffset
        self.fileSize = file.count
        self.index = index
        #endif
    }

    public func tensor(named name: String) -> GGUFTensor? {
        index[name].map { tensors[$0] }
    }

    /// Like `tensor(named:)`, throwing `ModelFormatError.missingTensor` when absent.
    public func requireTensor(named name: String) throws -> GGUFTensor {
        guard let t = tensor(named: name) else { throw ModelFormatError.missingTensor(name: name, searched: path) }
        return t
    }

    /// `general.architecture`, e.g. "gemma3", "llama", "qwen2" (nil when absent or not a string).
    public var architecture: String? { try? metadata.string("general.architecture") }
}

/// Bounds-checked little-endian reads over the mapped file. Every read checks what is left first.
struct GGUFReader {
    let buffer: UnsafeRawBufferPointer
    let path: String
    var position = 0
    /// What is being read, for truncation messages ("metadata key 'x'", "tensor info 'y'").
    var section = "the header"

    init(buffer: UnsafeRawBufferPointer, path: String) {
        self.buffer = buffer
        self.path = path
    }

    var remaining: Int { buffer.count - position }

    private func need(_ n: Int) throws {
        guard n <= remaining else { throw GGUFError.truncated(path: path, section: section, offset: position) }
    }

    mutating func scalar<T: FixedWidthInteger>(_: T.Type) throws -> T {
        try need(MemoryLayout<T>.size)
        let v = buffer.loadUnaligned(fromByteOffset: position, as: T.self)
        position += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    /// Validates a count read from the file: `count × minimumSize` bytes must fit in the whole file
    /// (else the count is absurd) and, with `checkRemaining`, in what is left of it (else truncated).
    mutating func count(_ raw: UInt64, minimumSize: Int, what: String, checkRemaining: Bool = true, start: Int? = nil) throws -> Int {
        let limit = UInt64(buffer.count / minimumSize)
        guard raw <= limit else {
            throw GGUFError.absurdCount(path: path, what: "\(what) in \(section)", count: raw, limit: limit)
        }
        let n = Int(raw)
        if checkRemaining, n * minimumSize > remaining {
            throw GGUFError.truncated(path: path, section: section, offset: start ?? position)
        }
        return n
    }

    mutating func string(what: String = "string length") throws -> String {
        let start = position
        let rawLength = try scalar(UInt64.self)
        let length = try count(rawLength, minimumSize: 1, what: what, start: start)
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[position..<position + length]), as: UTF8.self)
        position += length
        return s
    }

    mutating func value(type raw: UInt32, key: String, depth: Int) throws -> GGUFValue {
        guard let type = GGUFValueType(rawValue: raw) else {
            throw GGUFError.badMetadata(path: path, key: key, reason: "unknown value type \(raw)")
        }
        switch type {
        case .uint8: return .uint8(try scalar(UInt8.self))
        case .int8: return .int8(try scalar(Int8.self))
        case .uint16: return .uint16(try scalar(UInt16.self))
        case .int16: return .int16(try scalar(Int16.self))
        case .uint32: return .uint32(try scalar(UInt32.self))
        case .int32: return .int32(try scalar(Int32.self))
        case .float32: return .float32(Float(bitPattern: try scalar(UInt32.self)))
        case .bool: return .bool(try scalar(UInt8.self) != 0)
        case .string: return .string(try string())
        case .array: return .array(try array(key: key, depth: depth + 1))
        case .uint64: return .uint64(try scalar(UInt64.self))
        case .int64: return .int64(try scalar(Int64.self))
        case .float64: return .float64(Double(bitPattern: try scalar(UInt64.self)))
        }
    }

    mutating func array(key: String, depth: Int) throws -> GGUFArray {
        guard depth <= GGUFFile.maxArrayDepth else {
            throw GGUFError.badMetadata(path: path, key: key, reason: "arrays nested more than \(GGUFFile.maxArrayDepth) deep")
        }
        let rawType = try scalar(UInt32.self)
        guard let type = GGUFValueType(rawValue: rawType) else {
            throw GGUFError.badMetadata(path: path, key: key, reason: "unknown array element type \(rawType)")
        }
        let start = position
        let rawCount = try scalar(UInt64.self)
        let n = try count(rawCount, minimumSize: type.minimumEncodedSize, what: "array length", start: start)
        switch type {
        case .uint8: return .uint8(try raw(UInt8.self, n))
        case .int8: return .int8(try raw(Int8.self, n))
        case .uint16: return .uint16(try raw(UInt16.self, n))
        case .int16: return .int16(try raw(Int16.self, n))
        case .uint32: return .uint32(try raw(UInt32.self, n))
        case .int32: return .int32(try raw(Int32.self, n))
        case .float32: return .float32(try raw(Float.self, n))
        case .bool: return .bool(try raw(UInt8.self, n).map { $0 != 0 })
        case .uint64: return .uint64(try raw(UInt64.self, n))
        case .int64: return .int64(try raw(Int64.self, n))
        case .float64: return .float64(try raw(Double.self, n))
        case .string:
            var out: [String] = []
            out.reserveCapacity(min(n, 1 << 20))
            for _ in 0..<n { out.append(try string()) }
            return .string(out)
        case .array:
            var out: [GGUFArray] = []
            out.reserveCapacity(min(n, 1 << 16))
            for _ in 0..<n { out.append(try array(key: key, depth: depth + 1)) }
            return .array(out)
        }
    }

    /// `n` fixed-size little-endian elements copied straight out of the file (hosts are little-endian).
    private mutating func raw<T: BitwiseCopyable>(_: T.Type, _ n: Int) throws -> [T] {
        let bytes = n * MemoryLayout<T>.stride
        try need(bytes)
        let src = UnsafeRawBufferPointer(rebasing: buffer[position..<position + bytes])
        let out = [T](unsafeUninitializedCapacity: n) { dst, initialized in
            if bytes > 0 { UnsafeMutableRawBufferPointer(dst).copyMemory(from: src) }
            initialized = n
        }
        position += bytes
        return out
    }
}
