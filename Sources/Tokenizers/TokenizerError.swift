import Foundation

/// Everything that can go wrong while loading a tokenizer. Each case renders as one line that
/// names the offending file, so a user pointing the engine at the wrong folder sees why at once.
public enum TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The tokenizer directory (or a required file inside it) does not exist.
    case fileNotFound(path: String)
    /// The file exists but could not be read.
    case unreadableFile(path: String, reason: String)
    /// The file is not valid JSON, or its top level is not an object.
    case malformedJSON(path: String, reason: String)
    /// A required field is absent (e.g. `model.vocab`).
    case missingField(path: String, field: String)
    /// A field is present but has the wrong shape or an impossible value.
    case invalidField(path: String, field: String, reason: String)
    /// `model.type` is something other than BPE.
    case unsupportedModel(path: String, type: String, supported: [String])
    /// A normalizer / pre-tokenizer / post-processor / decoder type we do not implement.
    case unsupportedComponent(path: String, component: String, type: String, supported: [String])
    /// A regex pattern that ICU refuses to compile.
    case invalidRegex(path: String, pattern: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "tokenizer file not found: \(path)"
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read file: \(reason)"
        case .malformedJSON(let path, let reason):
            return "\(path): malformed JSON: \(reason)"
        case .missingField(let path, let field):
            return "\(path): missing required field '\(field)'"
        case .invalidField(let path, let field, let reason):
            return "\(path): invalid field '\(field)': \(reason)"
        case .unsupportedModel(let path, let type, let supported):
            return "\(path): unsupported tokenizer model type '\(type)' (supported: \(supported.joined(separator: ", ")))"
        case .unsupportedComponent(let path, let component, let type, let supported):
            return "\(path): unsupported \(component) type '\(type)' (supported: \(supported.joined(separator: ", ")))"
        case .invalidRegex(let path, let pattern, let reason):
            return "\(path): invalid regex \(pattern.debugDescription): \(reason)"
        }
    }
}
