/// One entry of `added_tokens` (special tokens such as `<|im_start|>`, or user-added words).
struct AddedToken: Sendable {
    let id: Int
    let content: String
    let special: Bool
    let lstrip: Bool
    let rstrip: Bool
    let singleWord: Bool
    let normalized: Bool
}

/// Splits raw input on added tokens before anything else happens, so they map straight to their
/// ids and never reach the normalizer or BPE. At each position the longest token wins.
struct AddedTokenMatcher: Sendable {
    enum Segment: Equatable { case text(String), token(Int) }

    let tokens: [AddedToken]
    /// First UTF-8 byte → candidate tokens (as bytes), longest first.
    private let byFirstByte: [UInt8: [(bytes: [UInt8], token: AddedToken)]]

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        var table: [UInt8: [(bytes: [UInt8], token: AddedToken)]] = [:]
        for t in tokens where !t.content.isEmpty {
            let bytes = Array(t.content.utf8)
            table[bytes[0], default: []].append((bytes, t))
        }
        for key in table.keys { table[key]!.sort { $0.bytes.count > $1.bytes.count } }
        byFirstByte = table
    }

    static func parse(_ json: JSONObject) throws -> [AddedToken] {
        try json.objects("added_tokens").map { t in
            guard let id = try t.int("id"), id >= 0 else { throw TokenizerError.missingField(path: t.path, field: t.fieldName("id")) }
            return AddedToken(
                id: id, content: try t.requiredString("content"),
                special: try t.bool("special", default: false),
                lstrip: try t.bool("lstrip", default: false), rstrip: try t.bool("rstrip", default: false),
                singleWord: try t.bool("single_word", default: false),
                normalized: try t.bool("normalized", default: false))
        }
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
    private static func isWordByte(_ b: UInt8) -> Bool {
        // ASCII alphanumerics/underscore, or any non-ASCII byte (conservatively a word character).
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x5F || b >= 0x80
    }

    func split(_ text: String) -> [Segment] {
        if byFirstByte.isEmpty { return text.isEmpty ? [] : [.text(text)] }
        let bytes = Array(text.utf8)
        var segments: [Segment] = []
        var textStart = 0
        var i = 0
        func flushText(upTo end: Int) {
            if end > textStart { segments.append(.text(String(decoding: bytes[textStart..<end], as: UTF8.self))) }
        }
        while i < bytes.count {
            guard let candidates = byFirstByte[bytes[i]],
                  let hit = candidates.first(where: { matches($0.bytes, $0.token, in: bytes, at: i) }) else {
                i += 1
                continue
            }
            var start = i
            var end = i + hit.bytes.count
            // lstrip/rstrip: the token swallows neighbouring whitespace.
            if hit.token.lstrip { while start > textStart && AddedTokenMatcher.isSpace(bytes[start - 1]) { start -= 1 } }
            if hit.token.rstrip { while end < bytes.count && AddedTokenMatcher.isSpace(bytes[end]) { end += 1 } }
            flushText(upTo: start)
            segments.append(.token(hit.token.id))
            i = end
            textStart = end
        }
        flushText(upTo: bytes.count)
        return segments
    }

    private func matches(_ pattern: [UInt8], _ token: AddedToken, in bytes: [UInt8], at i: Int) -> Bool {
        guard i + pattern.count <= bytes.count else { return false }
        for k in 0..<pattern.count where bytes[i + k] != pattern[k] { return false }
        if token.singleWord {
            if i > 0 && AddedTokenMatcher.isWordByte(bytes[i - 1]) { return false }
            let end = i + pattern.count
            if end < bytes.count && AddedTokenMatcher.isWordByte(bytes[end]) { return false }
        }
        return true
    }
}
