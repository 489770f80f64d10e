import Testing
@testable import Tokenizers

/// One U+FFFD per maximal invalid subpart, as Python's `bytes.decode("utf-8", errors="replace")`
/// (the expected strings below are its output) and Rust's `from_utf8_lossy`.
@Suite struct LossyUTF8Tests {
    @Test(arguments: [
        ([0x61, 0x62, 0x63], "abc"),
        ([0xC3, 0xA9], "é"),
        ([0xE2, 0x82, 0xAC], "€"),
        ([0xF0, 0x9F, 0x98, 0x80], "😀"),
        ([0xC3], "\u{FFFD}"),
        ([0xE2, 0x82], "\u{FFFD}"),
        ([0xF0, 0x9F, 0x98], "\u{FFFD}"),
        ([0x80], "\u{FFFD}"),
        ([0xFF], "\u{FFFD}"),
        ([0xC0, 0xAF], "\u{FFFD}\u{FFFD}"),
        ([0xE0, 0x80, 0xAF], "\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xED, 0xA0, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xF4, 0x90, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0x61, 0xE2, 0x82, 0x62], "a\u{FFFD}b"),
        ([0xE2, 0x82, 0xE2, 0x82, 0xAC], "\u{FFFD}€"),
        ([0xF0, 0x9F, 0x98, 0x80, 0x80, 0x78], "😀\u{FFFD}x"),
        ([0xC3, 0xA9, 0xF5, 0x7A], "é\u{FFFD}z"),
    ] as [([UInt8], String)])
    func finalDecodeMatchesPython(bytes: [UInt8], expected: String) {
        let (text, consumed) = LossyUTF8.decode(bytes, final: true)
        #expect(text == expected && consumed == bytes.count)
    }

    /// Not final: a trailing valid prefix of a character waits for its next bytes.
    @Test func incompleteTailIsHeldBack() {
        #expect(LossyUTF8.decode([0x61, 0xE2, 0x82], final: false) == ("a", 1))
        #expect(LossyUTF8.decode([0xF0, 0x9F], final: false) == ("", 0))
        #expect(LossyUTF8.decode([0xC3, 0xA9, 0xC3], final: false) == ("é", 2))
        // A broken sequence before the tail is replaced, not held.
        #expect(LossyUTF8.decode([0xE2, 0x41, 0xC3], final: false) == ("\u{FFFD}A", 2))
    }
}
