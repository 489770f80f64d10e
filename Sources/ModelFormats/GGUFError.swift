/// Everything that can be wrong with a GGUF file. Each message is one line naming the file and,
/// where relevant, the metadata key or tensor. (Mapping metadata to a `ModelConfig` reports
/// through `ModelFormatError` like the safetensors path does.)
public enum GGUFError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The first four bytes are not "GGUF".
    case badMagic(path: String, found: [UInt8])
    /// GGUF v1, a version newer than 3, or a big-endian file.
    case unsupportedVersion(path: String, version: UInt32, reason: String)
    /// The file ends inside `section` (the header, a metadata key, a tensor info); `offset` is where
    /// the read that ran out started.
    case truncated(path: String, section: String, offset: Int)
    /// A count or length that cannot possibly fit in the file (or a hard limit), so it is refused
    /// before anything is allocated for it.
    case absurdCount(path: String, what: String, count: UInt64, limit: UInt64)
    /// A metadata value that is malformed: unknown value type, nesting too deep, bad alignment.
    case badMetadata(path: String, key: String, reason: String)
    case duplicateKey(path: String, key: String)
    /// Raised by the typed accessors that require a key.
    case missingKey(path: String, key: String)
    /// A typed accessor found the key holding another type.
    case typeMismatch(path: String, key: String, expected: String, found: String)
    case unknownTensorType(path: String, tensor: String, typeID: UInt32)
    /// A tensor info that is malformed: too many dims, element count overflow, a row that is not
    /// a whole number of blocks, overlapping data.
    case badTensor(path: String, tensor: String, reason: String)
    /// The tensor's bytes `[offset, offset + byteCount)` (relative to the data section) do not fit
    /// in the `dataSize` bytes the file has after the data section start.
    case tensorOutOfBounds(path: String, tensor: String, offset: UInt64, byteCount: Int, dataSize: Int)
    case misalignedTensor(path: String, tensor: String, offset: UInt64, alignment: Int)
    case duplicateTensor(path: String, tensor: String)

    public var description: String {
        switch self {
        case .badMagic(let path, let found):
            let shown = found.map { b in (0x20..<0x7f).contains(b) ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16) }.joined()
            return "\(path): not a GGUF file (magic '\(shown)', expected 'GGUF')"
        case .unsupportedVersion(let path, let version, let reason):
            return "\(path): unsupported GGUF version \(version): \(reason)"
        case .truncated(let path, let section, let offset):
            return "\(path): truncated GGUF file: ends inside \(section) (read at byte \(offset))"
        case .absurdCount(let path, let what, let count, let limit):
            return "\(path): corrupt GGUF file: \(what) is \(count), more than the \(limit) the file can hold (corrupt or truncated file)"
        case .badMetadata(let path, let key, let reason):
            return "\(path): metadata key '\(key)': \(reason)"
        case .duplicateKey(let path, let key):
            return "\(path): metadata key '\(key)' appears more than once"
        case .missingKey(let path, let key):
            return "\(path): metadata key '\(key)' not found"
        case .typeMismatch(let path, let key, let expected, let found):
            return "\(path): metadata key '\(key)' is \(found), expected \(expected)"
        case .unknownTensorType(let path, let tensor, let typeID):
            return "\(path): tensor '\(tensor)': unknown ggml type \(typeID)"
        case .badTensor(let path, let tensor, let reason):
            return "\(path): tensor '\(tensor)': \(reason)"
        case .tensorOutOfBounds(let path, let tensor, let offset, let byteCount, let dataSize):
            return "\(path): tensor '\(tensor)': data [\(offset), +\(byteCount) bytes) runs past the end of the \(dataSize)-byte data section (truncated file?)"
        case .misalignedTensor(let path, let tensor, let offset, let alignment):
            return "\(path): tensor '\(tensor)': data offset \(offset) is not a multiple of the alignment \(alignment)"
        case .duplicateTensor(let path, let tensor):
            return "\(path): tensor '\(tensor)' appears more than once"
        }
    }

    /// The file the error is about.
    public var path: String {
        switch self {
        case .badMagic(let p, _), .unsupportedVersion(let p, _, _), .truncated(let p, _, _), .absurdCount(let p, _, _, _),
             .badMetadata(let p, _, _), .duplicateKey(let p, _), .missingKey(let p, _), .typeMismatch(let p, _, _, _),
             .unknownTensorType(let p, _, _), .badTensor(let p, _, _), .tensorOutOfBounds(let p, _, _, _, _),
             .misalignedTensor(let p, _, _, _), .duplicateTensor(let p, _):
            return p
        }
    }
}
