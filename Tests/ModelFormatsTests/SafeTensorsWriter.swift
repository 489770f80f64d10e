import Foundation

/// Builds safetensors files byte by byte, so tests can make valid and deliberately broken ones.
struct SafeTensorsWriter {
    struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        var bytes: [UInt8]
    }

    var entries: [Entry] = []

    mutating func add(_ name: String, f32 values: [Float], shape: [Int]) {
        entries.append(Entry(name: name, dtype: "F32", shape: shape, bytes: values.flatMap { bytesOf($0.bitPattern) }))
    }

    mutating func add(_ name: String, f16 values: [Float], shape: [Int]) {
        entries.append(Entry(name: name, dtype: "F16", shape: shape, bytes: values.flatMap { bytesOf(Float16($0).bitPattern) }))
    }

    mutating func add(_ name: String, bf16 values: [Float], shape: [Int]) {
        entries.append(Entry(name: name, dtype: "BF16", shape: shape, bytes: values.flatMap { bytesOf(UInt16($0.bitPattern >> 16)) }))
    }

    /// The header JSON with honest offsets; tests may edit it before `file(header:)`.
    func header() -> String {
        var offset = 0
        var parts: [String] = []
        for e in entries {
            let shape = e.shape.map(String.init).joined(separator: ",")
            parts.append("\"\(e.name)\":{\"dtype\":\"\(e.dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}")
            offset += e.bytes.count
        }
        return "{\"__metadata__\":{\"format\":\"pt\"}," + parts.joined(separator: ",") + "}"
    }

    func file(header: String? = nil) -> [UInt8] {
        let h = Array((header ?? self.header()).utf8)
        return bytesOf(UInt64(h.count)) + h + entries.flatMap(\.bytes)
    }
}

func bytesOf<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// A fresh temporary directory, removed by the caller with `cleanUp`.
struct TemporaryDirectory {
    let url: URL = FileManager.default.temporaryDirectory.appendingPathComponent("shardline-test-\(UUID().uuidString)")

    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }

    var path: String { url.path }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = url.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    func write(_ name: String, _ text: String) throws -> String { try write(name, Array(text.utf8)) }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}
