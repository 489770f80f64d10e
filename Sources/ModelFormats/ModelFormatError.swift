/// Everything that can be wrong with a model on disk. Each case names the file (and the tensor
/// or key) so the one-line message tells the user exactly what to fix.
public enum ModelFormatError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String)
    case unreadable(path: String, reason: String)
    case malformedHeader(path: String, reason: String)
    case badTensor(path: String, tensor: String, reason: String)
    case missingTensor(name: String, searched: String)
    case badConfig(path: String, reason: String)
    case unsupportedArchitecture(path: String, found: String, supported: [String])

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): no such file or directory"
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .malformedHeader(let path, let reason):
            return "\(path): malformed safetensors header: \(reason)"
        case .badTensor(let path, let tensor, let reason):
            return "\(path): tensor '\(tensor)': \(reason)"
        case .missingTensor(let name, let searched):
            return "\(searched): tensor '\(name)' not found"
        case .badConfig(let path, let reason):
            return "\(path): \(reason)"
        case .unsupportedArchitecture(let path, let found, let supported):
            return "\(path): unsupported architecture '\(found)'; supported: \(supported.joined(separator: ", "))"
        }
    }
}
