/// UTF-8 decoding that replaces each *maximal invalid subpart* with one U+FFFD — the policy of
/// Rust's `String::from_utf8_lossy` (used by HF tokenizers) and Python's `errors="replace"`.
/// Shared by full decoding and the incremental detokenizer so both agree byte for byte.
enum LossyUTF8 {
    /// Decodes `bytes`. When `final` is false, a trailing sequence that is a valid *prefix* of a
    /// character is left undecoded; `consumed` tells how many bytes were turned into text.
    static func decode(_ bytes: [UInt8], final: Bool) -> (text: String, consumed: Int) {
        var scalars = String.UnicodeScalarView()
        let n = bytes.count
        var i = 0
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                scalars.append(Unicode.Scalar(b0))
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
                scalars.append("\u{FFFD}")
                i += 1
                continue
            }
            var j = i + 1
            var value = UInt32(b0) & (need == 1 ? 0x1F : need == 2 ? 0x0F : 0x07)
            var broken = false
            for k in 0..<need {
                if j >= n {
                    // Ran out of input inside a character that could still be valid.
                    if !final { return (String(scalars), i) }
                    broken = true
                    break
                }
                let b = bytes[j]
                let (l, h) = k == 0 ? (lo, hi) : (UInt8(0x80), UInt8(0xBF))
                if b < l || b > h { broken = true; break }
                value = (value << 6) | UInt32(b & 0x3F)
                j += 1
            }
            if broken {
                scalars.append("\u{FFFD}")  // one replacement for bytes i..<j
            } else {
                scalars.append(Unicode.Scalar(value)!)
            }
            i = j
        }
        return (String(scalars), n)
    }
}
