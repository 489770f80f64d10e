import Foundation

/// One `.safetensors` file: an 8-byte little-endian header length, a JSON header, then raw data.
/// The header is validated completely at open, so later tensor reads cannot go out of bounds.
public struct SafeTensorsFile: Sendable {
    public let path: String
    public let metadata: [String: String]
    public let tensors: [String: TensorData]

    /// Headers larger than this are refused rather than parsed (the format's own limit is 100 MB).
    static let maxHeaderBytes = 100_000_000

    public init(path: String) throws {
        self.path = path
        let file = try MappedFile(path: path)
        guard file.count >= 8 else {
            throw ModelFormatError.malformedHeader(path: path, reason: "file is \(file.count) bytes, shorter than the 8-byte header length")
        }
        let headerLength = Int(UInt64(littleEndian: file.bytes(offset: 0, length: 8).loadUnaligned(as: UInt64.self)).clamped(to: UInt64(Int.max)))
        guard headerLength <= Self.maxHeaderBytes else {
            throw ModelFormatError.malformedHeader(path: path, reason: "header length \(headerLength) exceeds \(Self.maxHeaderBytes) bytes")
        }
        guard headerLength <= file.count - 8 else {
            throw ModelFormatError.malformedHeader(path: path, reason: "header length \(headerLength) runs past the end of the \(file.count)-byte file (truncated?)")
        }
        let headerBytes = Data(file.bytes(offset: 8, length: headerLength))
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw ModelFormatError.malformedHeader(path: path, reason: "header is not valid JSON")
        }
        guard let header = parsed as? [String: Any] else {
            throw ModelFormatError.malformedHeader(path: path, reason: "header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        let dataLength = file.count - dataStart
        var metadata: [String: String] = [:]
        var tensors: [String: TensorData] = [:]
        var ranges: [(begin: Int, end: Int, name: String)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let meta = value as? [String: Any] else {
                    throw ModelFormatError.malformedHeader(path: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in meta { metadata[k] = (v as? String) ?? "\(v)" }
                continue
            }
            let entry = try Self.parseEntry(name: name, value: value, path: path, dataLength: dataLength)
            ranges.append((entry.begin, entry.end, name))
            tensors[name] = TensorData(
                name: name, dtype: entry.dtype, shape: entry.shape,
                bytes: file.bytes(offset: dataStart + entry.begin, length: entry.end - entry.begin),
                file: file)
        }
        ranges.sort { $0.begin < $1.begin }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.begin < a.end {
            throw ModelFormatError.badTensor(path: path, tensor: b.name, reason: "data_offsets overlap tensor '\(a.name)'")
        }
        self.metadata = metadata
        self.tensors = tensors
    }

    private static func parseEntry(name: String, value: Any, path: String, dataLength: Int) throws
        -> (dtype: DType, shape: [Int], begin: Int, end: Int)
    {
        func bad(_ reason: String) -> ModelFormatError { .badTensor(path: path, tensor: name, reason: reason) }
        guard let entry = value as? [String: Any] else { throw bad("entry is not an object") }
        guard let dtypeName = entry["dtype"] as? String else { throw bad("missing dtype") }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw bad("unknown dtype '\(dtypeName)'")
        }
        guard let shapeAny = entry["shape"] as? [Any] else { throw bad("missing shape") }
        var shape: [Int] = []
        for dim in shapeAny {
            guard let d = exactInt(dim), d >= 0 else { throw bad("shape \(shapeAny) is not a list of non-negative integers") }
            shape.append(d)
        }
        guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
              let begin = exactInt(offsets[0]), let end = exactInt(offsets[1])
        else { throw bad("data_offsets must be two integers") }
        guard begin >= 0, begin <= end else { throw bad("data_offsets [\(begin), \(end)] are not ordered") }
        guard end <= dataLength else {
            throw bad("data_offsets [\(begin), \(end)] point past the end of the data section (\(dataLength) bytes; truncated file?)")
        }
        var elements = 1
        for d in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("shape \(shape) overflows") }
            elements = product
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, expected == end - begin else {
            throw bad("shape \(shape) × \(dtype.rawValue) needs \(elements * dtype.byteSize) bytes but data_offsets span \(end - begin)")
        }
        return (dtype, shape, begin, end)
    }
}

/// JSONSerialization gives NSNumber for numbers; accept only exact integers (no 1.5, no true).
func exactInt(_ value: Any) -> Int? {
    guard let number = value as? NSNumber else { return nil }
    let d = number.doubleValue
    guard d == d.rounded(), abs(d) < 9.0e15 else { return nil }
    return number.intValue
}

extension UInt64 {
    fileprivate func clamped(to limit: UInt64) -> UInt64 { Swift.min(self, limit) }
}
