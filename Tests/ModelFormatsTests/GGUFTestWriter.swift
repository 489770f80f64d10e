import Foundation
import ModelFormats
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds GGUF files byte by byte, so tests can make valid and deliberately broken ones.
/// Value type ids and layout are written out here independently of the reader's tables.
struct GGUFTestWriter {
    struct Tensor {
        var name: String
        var ne: [UInt64]
        var typeID: UInt32
        var data: [UInt8]
        /// Offset to store instead of the honest aligned one.
        var offsetOverride: UInt64? = nil
        /// n_dims to store instead of `ne.count`.
        var nDimsOverride: UInt32? = nil
    }

    /// Where things landed in the last `build()`.
    struct Layout {
        var bytes: [UInt8]
        /// End of the 24-byte header (magic, version, counts).
        var headerEnd: Int
        /// Start of each KV entry, then the end of the metadata.
        var kvStarts: [Int]
        var metadataEnd: Int
        var tensorInfoStarts: [Int]
        var tensorInfoEnd: Int
        var dataOffset: Int
        /// Each tensor's offset relative to the data section, as stored.
        var tensorOffsets: [UInt64]
    }

    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    /// Padding used for the data section and tensor offsets; add `general.alignment` yourself.
    var alignment = 32
    var kvs: [(String, GGUFValue)] = []
    /// Pre-encoded KV entries (key, type, value) written after `kvs` and counted with them.
    var rawKVs: [[UInt8]] = []
    var tensors: [Tensor] = []
    var tensorCountOverride: UInt64?
    var kvCountOverride: UInt64?

    mutating func add(_ key: String, _ value: GGUFValue) { kvs.append((key, value)) }

    mutating func addTensor(_ name: String, type: GGMLType, ne: [Int], data: [UInt8]? = nil) {
        let elements = ne.reduce(1, *)
        let rows = elements / max(ne.first ?? 1, 1)
        let size = (type.rowBytes(elements: ne.first ?? 1) ?? 0) * rows
        tensors.append(Tensor(name: name, ne: ne.map { UInt64($0) }, typeID: type.rawValue,
                              data: data ?? ggufPattern(count: size, seed: UInt64(tensors.count + 1))))
    }

    func build() -> Layout {
        var out = magic
        out += ggufLE(version)
        out += ggufLE(tensorCountOverride ?? UInt64(tensors.count))
        out += ggufLE(kvCountOverride ?? UInt64(kvs.count + rawKVs.count))
        let headerEnd = out.count
        var kvStarts: [Int] = []
        for (key, value) in kvs {
            kvStarts.append(out.count)
            out += Self.string(key)
            out += ggufLE(Self.typeID(value))
            out += Self.payload(value)
        }
        for raw in rawKVs {
            kvStarts.append(out.count)
            out += raw
        }
        let metadataEnd = out.count
        var offsets: [UInt64] = []
        var cursor = 0
        for t in tensors {
            let aligned = (cursor + alignment - 1) / alignment * alignment
            offsets.append(t.offsetOverride ?? UInt64(aligned))
            cursor = aligned + t.data.count
        }
        var infoStarts: [Int] = []
        for (t, offset) in zip(tensors, offsets) {
            infoStarts.append(out.count)
            out += Self.string(t.name)
            out += ggufLE(t.nDimsOverride ?? UInt32(t.ne.count))
            for d in t.ne { out += ggufLE(d) }
            out += ggufLE(t.typeID)
            out += ggufLE(offset)
        }
        let infoEnd = out.count
        while out.count % alignment != 0 { out.append(0) }
        let dataOffset = out.count
        // Data at the honest aligned offsets (overridden offsets do not move the bytes).
        cursor = 0
        for t in tensors {
            let aligned = (cursor + alignment - 1) / alignment * alignment
            while out.count < dataOffset + aligned { out.append(0) }
            out += t.data
            cursor = aligned + t.data.count
        }
        return Layout(bytes: out, headerEnd: headerEnd, kvStarts: kvStarts, metadataEnd: metadataEnd,
                      tensorInfoStarts: infoStarts, tensorInfoEnd: infoEnd, dataOffset: dataOffset, tensorOffsets: offsets)
    }

    var bytes: [UInt8] { build().bytes }

    static func string(_ s: String) -> [UInt8] {
        let utf8 = Array(s.utf8)
        return ggufLE(UInt64(utf8.count)) + utf8
    }

    static func typeID(_ v: GGUFValue) -> UInt32 {
        switch v {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    static func payload(_ v: GGUFValue) -> [UInt8] {
        switch v {
        case .uint8(let x): return [x]
        case .int8(let x): return [UInt8(bitPattern: x)]
        case .uint16(let x): return ggufLE(x)
        case .int16(let x): return ggufLE(x)
        case .uint32(let x): return ggufLE(x)
        case .int32(let x): return ggufLE(x)
        case .float32(let x): return ggufLE(x.bitPattern)
        case .bool(let x): return [x ? 1 : 0]
        case .string(let s): return string(s)
        case .uint64(let x): return ggufLE(x)
        case .int64(let x): return ggufLE(x)
        case .float64(let x): return ggufLE(x.bitPattern)
        case .array(let a):
            let elementType: UInt32 = a.values.first.map(typeID) ?? emptyArrayType(a)
            return ggufLE(elementType) + ggufLE(UInt64(a.count)) + a.values.flatMap(payload)
        }
    }

    private static func emptyArrayType(_ a: GGUFArray) -> UInt32 {
        switch a {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    /// A raw KV entry: key, then the given type id and payload bytes.
    static func rawKV(_ key: String, type: UInt32, _ payload: [UInt8]) -> [UInt8] {
        string(key) + ggufLE(type) + payload
    }
}

func ggufLE<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// Deterministic filler bytes.
func ggufPattern(count: Int, seed: UInt64) -> [UInt8] {
    var rng = GGUFTestRNG(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
}

/// SplitMix64: deterministic, so a failing fuzz case reproduces.
struct GGUFTestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes `bytes` to a temporary file, opens it as GGUF and deletes the file (the mapping stays
/// valid). Plain POSIX writes: Foundation's `Data.write` costs milliseconds, and the truncation and
/// corruption tests open thousands of files.
func openGGUF(_ bytes: [UInt8], name: String = "model.gguf") throws -> GGUFFile {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("shardline-gguf-\(UUID().uuidString)-\(name)").path
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
    defer { unlink(path) }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    guard written == bytes.count else { throw CocoaError(.fileWriteUnknown) }
    return try GGUFFile(path: path)
}
