/// GPT-2's reversible byte → printable-character table. Byte-level BPE vocabularies store token
/// bytes as these characters (space → "Ġ", newline → "Ċ"), so every byte sequence is
/// representable without an unknown token.
enum ByteLevelAlphabet {
    /// byte value → the Unicode scalar that stands for it.
    static let byteToScalar: [Unicode.Scalar] = {
        // Printable Latin-1 bytes map to themselves; the 68 others are shifted to U+0100 upward.
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// scalar value → byte, or -1 when the scalar is not part of the alphabet (max scalar is U+0143).
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in byteToScalar.enumerated() { table[Int(s.value)] = Int16(b) }
        return table
    }()

    /// Maps raw UTF-8 bytes to their byte-level string form.
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for b in bytes { scalars.append(byteToScalar[Int(b)]) }
        return String(scalars)
    }

    /// Maps a byte-level token back to bytes; nil if any scalar is outside the alphabet
    /// (HF then falls back to the token's own UTF-8 bytes).
    static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            let v = Int(s.value)
            guard v < scalarToByte.count, scalarToByte[v] >= 0 else { return nil }
            out.append(UInt8(scalarToByte[v]))
        }
        return out
    }
}
