/// Streaming decode for generation: feed ids one at a time and get back only newly completed
/// text. Bytes of a character split across tokens are held until it completes; invalid bytes
/// become U+FFFD exactly as in the tokenizer's `decode`, so the concatenated output of all `feed`
/// calls plus `finish()` equals `decode(allIds)`.
public struct IncrementalDetokenizer: Sendable {
    public let tokenizer: any Tokenizer
    public let skipSpecialTokens: Bool
    /// Undecoded tail: a valid prefix of a multi-byte character.
    private var pending: [UInt8] = []

    public init(tokenizer: any Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// True while bytes of an incomplete character are being held back.
    public var hasPendingBytes: Bool { !pending.isEmpty }

    /// Adds one id; returns the text that became complete (possibly empty).
    public mutating func feed(_ id: Int) -> String {
        guard let bytes = tokenizer.tokenBytes(id, skipSpecialTokens: skipSpecialTokens) else { return "" }
        pending += bytes
        let (text, consumed) = LossyUTF8.decode(pending, final: false)
        pending.removeFirst(consumed)
        return text
    }

    /// Adds several ids; returns the newly completed text.
    public mutating func feed(_ ids: [Int]) -> String {
        var out = ""
        for id in ids { out += feed(id) }
        return out
    }

    /// Ends the stream: any held-back incomplete character becomes U+FFFD.
    public mutating func finish() -> String {
        let (text, _) = LossyUTF8.decode(pending, final: true)
        pending.removeAll()
        return text
    }
}
