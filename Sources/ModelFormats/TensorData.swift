/// One tensor as stored on disk: a typed view into a mapped file. Keeps the mapping alive.
public struct TensorData: @unchecked Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let bytes: UnsafeRawBufferPointer
    let file: MappedFile

    public var elementCount: Int { shape.reduce(1, *) }
    public var path: String { file.path }

    /// Converts F32/F16/BF16 to a fresh f32 array (little-endian files, as safetensors defines).
    public func floats() throws -> [Float] {
        let n = elementCount
        switch dtype {
        case .f32:
            return [Float](unsafeUninitializedCapacity: n) { buf, count in
                _ = memcpyFloats(dst: buf.baseAddress!, src: bytes.baseAddress, n: n)
                count = n
            }
        case .f16:
            return [Float](unsafeUninitializedCapacity: n) { buf, count in
                for i in 0..<n {
                    let bits = bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                    buf[i] = Float(Float16(bitPattern: UInt16(littleEndian: bits)))
                }
                count = n
            }
        case .bf16:
            return [Float](unsafeUninitializedCapacity: n) { buf, count in
                for i in 0..<n {
                    let bits = bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                    buf[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bits)) << 16)
                }
                count = n
            }
        default:
            throw ModelFormatError.badTensor(path: path, tensor: name, reason: "dtype \(dtype.rawValue) cannot be converted to F32")
        }
    }
}

extension TensorData {
    /// Converts only rows `rows` × columns `cols` of a 2-D tensor (or elements `rows` of a 1-D
    /// one) to f32: a shard reads its slice straight from the mapping, never the whole tensor.
    public func floats(rows: Range<Int>, cols: Range<Int>? = nil) throws -> [Float] {
        let rowLength = shape.count == 2 ? shape[1] : 1
        let cols = cols ?? 0..<rowLength
        guard shape.count <= 2, rows.lowerBound >= 0, rows.upperBound <= (shape.first ?? 1),
              cols.lowerBound >= 0, cols.upperBound <= rowLength else {
            throw ModelFormatError.badTensor(path: path, tensor: name, reason: "slice rows \(rows) × cols \(cols) is outside shape \(shape)")
        }
        let width = dtype.byteSize
        guard [DType.f32, .f16, .bf16].contains(dtype) else {
            throw ModelFormatError.badTensor(path: path, tensor: name, reason: "dtype \(dtype.rawValue) cannot be converted to F32")
        }
        let n = rows.count * cols.count
        return [Float](unsafeUninitializedCapacity: n) { buf, count in
            var i = 0
            for r in rows {
                let rowStart = (r * rowLength + cols.lowerBound) * width
                for c in 0..<cols.count {
                    let at = rowStart + c * width
                    switch dtype {
                    case .f32: buf[i] = bytes.loadUnaligned(fromByteOffset: at, as: Float.self)
                    case .f16: buf[i] = Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))))
                    default: buf[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))) << 16)
                    }
                    i += 1
                }
            }
            count = n
        }
    }
}

private func memcpyFloats(dst: UnsafeMutablePointer<Float>, src: UnsafeRawPointer?, n: Int) -> Int {
    guard let src, n > 0 else { return 0 }
    UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
    return n
}
