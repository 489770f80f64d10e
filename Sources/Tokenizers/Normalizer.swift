import Foundation

/// The `normalizer` section of tokenizer.json. Only whole-string Unicode normalizations are
/// supported; they never move added-token boundaries because added tokens are split off first.
enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd, lowercase
    case sequence([Normalizer])

    static let supported = ["NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Sequence"]

    /// Parses the section; `nil` JSON means "no normalizer".
    static func parse(_ json: JSONObject?) throws -> Normalizer? {
        guard let json else { return nil }
        let type = try json.requiredString("type")
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Sequence":
            let parts = try json.objects("normalizers").compactMap { try parse($0) }
            return .sequence(parts)
        default:
            throw TokenizerError.unsupportedComponent(
                path: json.path, component: "normalizer", type: type, supported: supported)
        }
    }

    func apply(_ text: String) -> String {
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .lowercase: return text.lowercased()
        case .sequence(let parts): return parts.reduce(text) { $1.apply($0) }
        }
    }
}
