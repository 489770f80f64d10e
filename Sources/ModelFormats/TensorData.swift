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

private func memcpyFloats(dst: UnsafeMutablePointer<Float>, src: UnsafeRawPointer?, n: Int) -> Int {
    guard let src, n > 0 else { return 0 }
    UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
    return n
}
