/// The `decoder` section, flattened to a per-token byte mapping. HF's ByteLevel decoder
/// concatenates the bytes of *all* tokens and only then decodes UTF-8 lossily; producing bytes per
/// token keeps that property and lets the incremental detokenizer share the exact same path.
struct TokenDecoder: Sendable {
    /// Map byte-level alphabet characters back to bytes.
    var byteLevel = false
    /// Turn `<0xAB>` tokens into the raw byte 0xAB.
    var byteFallback = false
    /// `Replace` decoders with a literal pattern (e.g. "▁" → " "), applied in order.
    var replacements: [(pattern: String, content: String)] = []

    static let supported = ["ByteLevel", "ByteFallback", "Fuse", "Replace", "Sequence"]

    static func parse(_ json: JSONObject?, modelByteFallback: Bool) throws -> TokenDecoder {
        var decoder = TokenDecoder()
        decoder.byteFallback = modelByteFallback
        if let json { try decoder.add(json) }
        return decoder
    }

    private mutating func add(_ json: JSONObject) throws {
        let type = try json.requiredString("type")
        switch type {
        case "ByteLevel": byteLevel = true
        case "ByteFallback": byteFallback = true
        case "Fuse": break  // joining tokens is what we do anyway
        case "Replace":
            let pattern = try json.requiredObject("pattern")
            guard let literal = try pattern.string("String") else {
                throw json.invalid("pattern", "only {\"String\": ...} patterns are supported in Replace decoders")
            }
            replacements.append((literal, try json.string("content") ?? ""))
        case "Sequence":
            for part in try json.objects("decoders") { try add(part) }
        default:
            throw TokenizerError.unsupportedComponent(path: json.path, component: "decoder", type: type, supported: TokenDecoder.supported)
        }
    }

    /// Bytes contributed by one token string.
    func bytes(for token: String) -> [UInt8] {
        if byteFallback, let b = TokenDecoder.fallbackByte(token) { return [b] }
        var text = token
        for r in replacements { text = text.replacingOccurrences(r.pattern, with: r.content) }
        if byteLevel, let b = ByteLevelAlphabet.decode(text) { return b }
        // HF keeps a token's own UTF-8 when any character is outside the byte-level alphabet.
        return Array(text.utf8)
    }

    /// Parses `<0xAB>`.
    static func fallbackByte(_ token: String) -> UInt8? {
        let u = Array(token.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        return UInt8(String(decoding: u[3...4], as: UTF8.self), radix: 16)
    }
}

extension String {
    /// Literal (non-regex) replacement without Foundation's NSString bridging.
    fileprivate func replacingOccurrences(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
