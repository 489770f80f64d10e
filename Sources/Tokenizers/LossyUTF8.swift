/// UTF-8 decoding that replaces each *maximal invalid subpart* with one U+FFFD — the policy of
/// Rust's `String::from_utf8_lossy` (used by HF tokenizers) and Python's `errors="replace"`.
/// Shared by full decoding and the incremental detokenizer so both agree byte for byte.
enum LossyUTF8 {
    /// Decodes `bytes`. When `final` is false, a trailing sequence that is a valid *prefix* of a
    /// character is left undecoded; `consumed` tells how many bytes were turned into text.
    ///
    /// Valid bytes are copied and each broken sequence becomes EF BF BD (U+FFFD), then the String
    /// is made from UTF-8 in one go: appending scalar by scalar took ~10 us per generated token in
    /// the output path, run with cold caches after each decode step.
    static func decode(_ bytes: [UInt8], final: Bool) -> (text: String, consumed: Int) {
        let n = bytes.count
        if bytes.allSatisfy({ $0 < 0x80 }) { return (String(decoding: bytes, as: UTF8.self), n) }
        var out: [UInt8] = []
        out.reserveCapacity(n + 3)
        var i = 0
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                out.append(b0)
                i += 1
                continue
            }
            // Length and the allowed range of the second byte (excludes overlongs and surrogates).
            let need: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch b0 {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default:
                out += replacement
                i += 1
                continue
            }
            var j = i + 1
            var broken = false
            for k in 0..<need {
                if j >= n {
                    // Ran out of input inside a character that could still be valid.
                    if !final { return (String(decoding: out, as: UTF8.self), i) }
                    broken = true
                    break
                }
                let b = bytes[j]
                let (l, h) = k == 0 ? (lo, hi) : (UInt8(0x80), UInt8(0xBF))
                if b < l || b > h { broken = true; break }
                j += 1
            }
            if broken {
                out += replacement  // one replacement for bytes i..<j
            } else {
                out += bytes[i..<j]
            }
            i = j
        }
        return (String(decoding: out, as: UTF8.self), n)
    }

    /// U+FFFD in UTF-8.
    private static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
}
