/// Python `str` methods, done on code points / UTF-8 bytes rather than Swift `Character`s: Swift
/// treats "\r\n" as one character and compares canonically-equivalent strings as equal, Python does
/// neither (`'\r' in 'a\r\nb'` is True).
enum PythonString {
    /// Byte offset of the first occurrence of `needle` in `haystack` (UTF-8 matching is exact for code points).
    static func find(_ needle: String, in haystack: String, from start: Int = 0) -> Int? {
        let h = Array(haystack.utf8), n = Array(needle.utf8)
        return find(n, in: h, from: start)
    }

    static func find(_ n: [UInt8], in h: [UInt8], from start: Int) -> Int? {
        guard n.count <= h.count - start else { return nil }
        if n.isEmpty { return start }
        var i = start
        let last = h.count - n.count
        while i <= last {
            if h[i] == n[0] && h[i..<i + n.count].elementsEqual(n) { return i }
            i += 1
        }
        return nil
    }

    static func hasPrefix(_ s: String, _ prefix: String) -> Bool { s.utf8.starts(with: prefix.utf8) }
    static func hasSuffix(_ s: String, _ suffix: String) -> Bool { s.utf8.reversed().starts(with: suffix.utf8.reversed()) }

    /// `str.strip/lstrip/rstrip([chars])`: whitespace (Python's `isspace`) when `chars` is nil.
    static func strip(_ s: String, chars: String?, left: Bool = true, right: Bool = true) -> String {
        let scalars = Array(s.unicodeScalars)
        let set = chars.map { Set($0.unicodeScalars) }
        func strippable(_ c: Unicode.Scalar) -> Bool { set?.contains(c) ?? PythonFormat.isWhitespace(c) }
        var lo = 0, hi = scalars.count
        if left { while lo < hi, strippable(scalars[lo]) { lo += 1 } }
        if right { while hi > lo, strippable(scalars[hi - 1]) { hi -= 1 } }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[lo..<hi])
        return String(out)
    }

    /// `str.split(sep=None, maxsplit=-1)`.
    static func split(_ s: String, separator: String?, maxSplit: Int = -1) throws -> [String] {
        guard let separator else { return splitWhitespace(s, maxSplit: maxSplit) }
        let sep = Array(separator.utf8)
        guard !sep.isEmpty else { throw ChatTemplateError.runtime("empty separator") }
        let bytes = Array(s.utf8)
        var parts: [String] = []
        var start = 0
        while maxSplit < 0 || parts.count < maxSplit, let hit = find(sep, in: bytes, from: start) {
            parts.append(String(decoding: bytes[start..<hit], as: UTF8.self))
            start = hit + sep.count
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        return parts
    }

    private static func splitWhitespace(_ s: String, maxSplit: Int) -> [String] {
        var parts: [String] = []
        var current = String.UnicodeScalarView()
        var inWord = false
        let scalars = Array(s.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if PythonFormat.isWhitespace(c) {
                if inWord { parts.append(String(current)); current = .init(); inWord = false }
            } else {
                if !inWord && maxSplit >= 0 && parts.count == maxSplit {
                    // Remainder goes in one piece, with trailing whitespace stripped.
                    var rest = String.UnicodeScalarView()
                    rest.append(contentsOf: scalars[i...])
                    parts.append(strip(String(rest), chars: nil, left: false))
                    return parts
                }
                current.append(c)
                inWord = true
            }
            i += 1
        }
        if inWord { parts.append(String(current)) }
        return parts
    }

    /// `str.replace(old, new[, count])`.
    static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
        if old.isEmpty {
            // Python inserts `new` around every character.
            var out = ""
            var done = 0
            for scalar in s.unicodeScalars {
                if count < 0 || done < count { out += new; done += 1 }
                out.unicodeScalars.append(scalar)
            }
            if count < 0 || done < count { out += new }
            return out
        }
        let bytes = Array(s.utf8), o = Array(old.utf8)
        var out: [UInt8] = []
        var start = 0
        var done = 0
        while count < 0 || done < count, let hit = find(o, in: bytes, from: start) {
            out += bytes[start..<hit]
            out += new.utf8
            start = hit + o.count
            done += 1
        }
        out += bytes[start...]
        return String(decoding: out, as: UTF8.self)
    }

    /// `str.count(sub)` (non-overlapping).
    static func count(_ s: String, _ sub: String) -> Int {
        if sub.isEmpty { return s.unicodeScalars.count + 1 }
        let bytes = Array(s.utf8), n = Array(sub.utf8)
        var start = 0, total = 0
        while let hit = find(n, in: bytes, from: start) { total += 1; start = hit + n.count }
        return total
    }

    /// `str.capitalize()`: first character upper-cased, the rest lower-cased.
    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + String(s.unicodeScalars.dropFirst()).lowercased()
    }

    /// `str.title()`: upper-case a letter that follows a non-letter, lower-case the others.
    static func title(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for scalar in s.unicodeScalars {
            let cased = scalar.properties.isCased
            out += previousCased ? String(scalar).lowercased() : String(scalar).uppercased()
            previousCased = cased
        }
        return out
    }

    /// Code-point length (Python `len(str)`).
    static func length(_ s: String) -> Int { s.unicodeScalars.count }
}
