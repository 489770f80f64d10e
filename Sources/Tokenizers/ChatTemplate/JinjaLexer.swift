/// Turns template source into tokens, applying HF's whitespace settings exactly as jinja2's lexer
/// does: `trim_blocks` and `lstrip_blocks` on, `keep_trailing_newline` off, `-`/`+` tag modifiers.
struct JinjaToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case text(String)
        case variableStart, variableEnd, blockStart, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case eof
    }
    let kind: Kind
    let line: Int
}

struct JinjaLexer {
    private var bytes: [UInt8]
    private var pos = 0
    private var line = 1
    private var tokens: [JinjaToken] = []
    /// jinja2's `line_starting`: the previous tag ended with a newline (or this is the start).
    private var lineStarting = true

    init(source: String) {
        // jinja2 normalises \r\n and \r to \n, then drops one trailing newline.
        var normalized: [UInt8] = []
        normalized.reserveCapacity(source.utf8.count)
        var previousCR = false
        for b in source.utf8 {
            if b == 0x0D { normalized.append(0x0A); previousCR = true; continue }
            if b == 0x0A && previousCR { previousCR = false; continue }
            previousCR = false
            normalized.append(b)
        }
        if normalized.last == 0x0A { normalized.removeLast() }
        bytes = normalized
    }

    static func tokenize(_ source: String) throws -> [JinjaToken] {
        var lexer = JinjaLexer(source: source)
        return try lexer.run()
    }

    private func byte(_ i: Int) -> UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func run() throws -> [JinjaToken] {
        while pos < bytes.count {
            guard let start = nextTagStart(from: pos) else {
                emitText(bytes[pos...])
                pos = bytes.count
                break
            }
            let kind = bytes[start + 1]
            let modifier = byte(start + 2)
            var text = ArraySlice(bytes[pos..<start])
            if modifier == UInt8(ascii: "-") {
                text = rstripWhitespace(text)
            } else if modifier != UInt8(ascii: "+") && kind != UInt8(ascii: "{") {
                text = lstripBlock(text)
            }
            emitText(text)
            line += bytes[pos..<start].count(where: { $0 == 0x0A })
            pos = start + 2
            if modifier == UInt8(ascii: "-") || modifier == UInt8(ascii: "+") { pos += 1 }
            switch kind {
            case UInt8(ascii: "#"): try skipComment()
            case UInt8(ascii: "%"):
                if try !lexRawBlock() { try lexTag(isBlock: true) }
            default: try lexTag(isBlock: false)
            }
        }
        tokens.append(JinjaToken(kind: .eof, line: line))
        return tokens
    }

    private func nextTagStart(from index: Int) -> Int? {
        var i = index
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: "{") {
                let next = bytes[i + 1]
                if next == UInt8(ascii: "{") || next == UInt8(ascii: "%") || next == UInt8(ascii: "#") { return i }
            }
            i += 1
        }
        return nil
    }

    private mutating func emitText(_ text: ArraySlice<UInt8>) {
        guard !text.isEmpty else { return }
        tokens.append(JinjaToken(kind: .text(String(decoding: text, as: UTF8.self)), line: line))
    }

    /// `lstrip_blocks`: spaces/tabs between the line start and a block or comment tag are removed.
    private func lstripBlock(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let lineStart = (text.lastIndex(of: 0x0A).map { $0 + 1 }) ?? text.startIndex
        guard lineStart > text.startIndex || lineStarting else { return text }
        let tail = text[lineStart...]
        guard !tail.isEmpty, isAllWhitespace(tail) else { return text }
        return text[..<lineStart]
    }

    private func isAllWhitespace(_ slice: ArraySlice<UInt8>) -> Bool {
        String(decoding: slice, as: UTF8.self).unicodeScalars.allSatisfy(PythonFormat.isWhitespace)
    }

    /// Python `str.rstrip()` on raw bytes (Unicode whitespace).
    private func rstripWhitespace(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let scalars = String(decoding: text, as: UTF8.self).unicodeScalars
        var trailing = 0
        for scalar in scalars.reversed() {
            guard PythonFormat.isWhitespace(scalar) else { break }
            trailing += UTF8.width(scalar)
        }
        return text.dropLast(trailing)
    }

    /// After a tag: `-` eats all following whitespace; otherwise `trim_blocks` eats one newline
    /// after block and comment tags.
    private mutating func finishTag(stripAfter: Bool, trimNewline: Bool) {
        if stripAfter {
            let rest = String(decoding: bytes[pos...], as: UTF8.self).unicodeScalars
            for scalar in rest {
                guard PythonFormat.isWhitespace(scalar) else { break }
                pos += UTF8.width(scalar)
                if scalar == "\n" { line += 1 }
            }
        } else if trimNewline, byte(pos) == 0x0A {
            pos += 1
            line += 1
        }
        lineStarting = pos > 0 && bytes[pos - 1] == 0x0A
    }

    private mutating func skipComment() throws {
        let startLine = line
        var i = pos
        while i + 1 < bytes.count, !(bytes[i] == UInt8(ascii: "#") && bytes[i + 1] == UInt8(ascii: "}")) { i += 1 }
        guard i + 1 < bytes.count else {
            throw ChatTemplateError.syntax(message: "missing end of comment tag", line: startLine)
        }
        let strip = i > pos && bytes[i - 1] == UInt8(ascii: "-")
        line += bytes[pos..<i].count(where: { $0 == 0x0A })
        pos = i + 2
        finishTag(stripAfter: strip, trimNewline: true)
    }

    /// `{% raw %}...{% endraw %}` emits its body verbatim.
    private mutating func lexRawBlock() throws -> Bool {
        var i = pos
        while let b = byte(i), b == 0x20 || b == 0x09 || b == 0x0A { i += 1 }
        guard bytes[i...].starts(with: Array("raw".utf8)) else { return false }
        i += 3
        while let b = byte(i), b == 0x20 || b == 0x09 || b == 0x0A { i += 1 }
        let stripAfterOpen = byte(i) == UInt8(ascii: "-")
        if stripAfterOpen { i += 1 }
        guard byte(i) == UInt8(ascii: "%"), byte(i + 1) == UInt8(ascii: "}") else { return false }
        let startLine = line
        line += bytes[pos..<i].count(where: { $0 == 0x0A })
        pos = i + 2
        finishTag(stripAfter: stripAfterOpen, trimNewline: false)
        var search = pos
        while let tagStart = nextTagStart(from: search) {
            var j = tagStart + 2
            let mod = byte(j)
            if mod == UInt8(ascii: "-") || mod == UInt8(ascii: "+") { j += 1 }
            while let b = byte(j), b == 0x20 || b == 0x09 || b == 0x0A { j += 1 }
            if bytes[tagStart + 1] == UInt8(ascii: "%"), bytes[j...].starts(with: Array("endraw".utf8)) {
                j += 6
                while let b = byte(j), b == 0x20 || b == 0x09 || b == 0x0A { j += 1 }
                let stripAfter = byte(j) == UInt8(ascii: "-")
                if stripAfter || byte(j) == UInt8(ascii: "+") { j += 1 }
                if byte(j) == UInt8(ascii: "%"), byte(j + 1) == UInt8(ascii: "}") {
                    var body = ArraySlice(bytes[pos..<tagStart])
                    if mod == UInt8(ascii: "-") { body = rstripWhitespace(body) }
                    emitText(body)
                    line += bytes[pos..<j].count(where: { $0 == 0x0A })
                    pos = j + 2
                    finishTag(stripAfter: stripAfter, trimNewline: bytes[j - 1] != UInt8(ascii: "+"))
                    return true
                }
            }
            search = tagStart + 1
        }
        throw ChatTemplateError.syntax(message: "missing end of raw directive", line: startLine)
    }

    /// Expression tokens up to the closing `}}` / `%}`; brackets must balance before a close counts,
    /// so `{{ {'a': {'b': 1}} }}` and strings holding `}}` lex correctly.
    private mutating func lexTag(isBlock: Bool) throws {
        let startLine = line
        tokens.append(JinjaToken(kind: isBlock ? .blockStart : .variableStart, line: line))
        let close = isBlock ? UInt8(ascii: "%") : UInt8(ascii: "}")
        var depth = 0
        while true {
            while let b = byte(pos), b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0C || b == 0x0B {
                if b == 0x0A { line += 1 }
                pos += 1
            }
            guard let b = byte(pos) else {
                let what = isBlock ? "block" : "variable"
                throw ChatTemplateError.syntax(message: "unexpected end of template, expected end of \(what) tag",
                                               line: startLine)
            }
            if depth == 0 {
                var end = pos
                let modifier = b == UInt8(ascii: "-") || b == UInt8(ascii: "+") ? b : nil
                if modifier != nil { end += 1 }
                if byte(end) == close, byte(end + 1) == UInt8(ascii: "}") {
                    tokens.append(JinjaToken(kind: isBlock ? .blockEnd : .variableEnd, line: line))
                    pos = end + 2
                    finishTag(stripAfter: modifier == UInt8(ascii: "-"),
                              trimNewline: isBlock && modifier != UInt8(ascii: "+"))
                    return
                }
            }
            if isNameStart(b) {
                let start = pos
                while let c = byte(pos), isNameStart(c) || (c >= 0x30 && c <= 0x39) { pos += 1 }
                tokens.append(JinjaToken(kind: .name(String(decoding: bytes[start..<pos], as: UTF8.self)), line: line))
            } else if b >= 0x30 && b <= 0x39 {
                try lexNumber()
            } else if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") {
                try lexString(quote: b)
            } else {
                let two = pos + 1 < bytes.count ? String(decoding: bytes[pos...pos + 1], as: UTF8.self) : ""
                let op: String
                if ["//", "**", "==", "!=", "<=", ">="].contains(two) {
                    op = two
                } else if "+-*/%~[](){}<>=.:|,;".utf8.contains(b) {
                    op = String(UnicodeScalar(b))
                } else {
                    let shown = String(decoding: bytes[pos..<min(bytes.count, pos + 4)], as: UTF8.self).first.map(String.init) ?? "?"
                    throw ChatTemplateError.syntax(message: "unexpected char '\(shown)'", line: line)
                }
                if "([{".contains(op) { depth += 1 }
                if ")]}".contains(op) { depth = max(0, depth - 1) }
                pos += op.utf8.count
                tokens.append(JinjaToken(kind: .op(op), line: line))
            }
        }
    }

    private func isNameStart(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
    }

    private mutating func lexNumber() throws {
        let start = pos
        func digits() { while let c = byte(pos), (c >= 0x30 && c <= 0x39) || c == 0x5F { pos += 1 } }
        digits()
        var isFloat = false
        // After `.`, a number is an attribute index (`x.0`), never a float.
        let afterDot = tokens.last?.kind == .op(".")
        if !afterDot, byte(pos) == UInt8(ascii: "."), let c = byte(pos + 1), c >= 0x30 && c <= 0x39 {
            isFloat = true
            pos += 1
            digits()
        }
        if !afterDot, byte(pos) == UInt8(ascii: "e") || byte(pos) == UInt8(ascii: "E") {
            var j = pos + 1
            if byte(j) == UInt8(ascii: "+") || byte(j) == UInt8(ascii: "-") { j += 1 }
            if let c = byte(j), c >= 0x30 && c <= 0x39 {
                isFloat = true
                pos = j
                digits()
            }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self).replacingOccurrences(of: "_", with: "")
        if !isFloat {
            // Python has big integers; refusing beats silently printing a float.
            guard let value = Int(text) else { throw ChatTemplateError.syntax(message: "integer literal too large", line: line) }
            tokens.append(JinjaToken(kind: .integer(value), line: line))
        } else if let value = Double(text) {
            tokens.append(JinjaToken(kind: .float(value), line: line))
        } else {
            throw ChatTemplateError.syntax(message: "invalid number '\(text)'", line: line)
        }
    }

    /// String literals decode Python escapes (`\n`, `\t`, `\"`, `\uXXXX`, ...); unknown escapes stay.
    private mutating func lexString(quote: UInt8) throws {
        let startLine = line
        pos += 1
        var raw: [UInt8] = []
        while true {
            guard let b = byte(pos) else {
                throw ChatTemplateError.syntax(message: "unterminated string literal", line: startLine)
            }
            if b == quote { pos += 1; break }
            if b == 0x5C, let next = byte(pos + 1) {
                raw.append(b)
                raw.append(next)
                pos += 2
                if next == 0x0A { line += 1 }
                continue
            }
            if b == 0x0A { line += 1 }
            raw.append(b)
            pos += 1
        }
        let value = JinjaStringEscapes.decode(String(decoding: raw, as: UTF8.self))
        tokens.append(JinjaToken(kind: .string(value), line: startLine))
    }
}

enum JinjaStringEscapes {
    /// Python's `unicode-escape` decoding as jinja2 applies it to string literals.
    static func decode(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func hexValue(_ count: Int) -> UInt32? {
            guard i + 1 + count <= scalars.count else { return nil }
            let s = String(String.UnicodeScalarView(scalars[(i + 1)...(i + count)]))
            return UInt32(s, radix: 16)
        }
        while i < scalars.count {
            let c = scalars[i]
            guard c == "\\", i + 1 < scalars.count else { out.append(c); i += 1; continue }
            let e = scalars[i + 1]
            i += 1  // i now at escape letter
            switch e {
            case "\n": i += 1
            case "\\", "'", "\"": out.append(e); i += 1
            case "a": out.append("\u{07}"); i += 1
            case "b": out.append("\u{08}"); i += 1
            case "f": out.append("\u{0C}"); i += 1
            case "n": out.append("\n"); i += 1
            case "r": out.append("\r"); i += 1
            case "t": out.append("\t"); i += 1
            case "v": out.append("\u{0B}"); i += 1
            case "x", "u", "U":
                let count = e == "x" ? 2 : (e == "u" ? 4 : 8)
                if let v = hexValue(count), let s = Unicode.Scalar(v) {
                    out.append(s)
                    i += 1 + count
                } else {
                    out.append("\\"); out.append(e); i += 1
                }
            case "0"..."7":
                var value: UInt32 = 0
                var n = 0
                while n < 3, i < scalars.count, ("0"..."7").contains(scalars[i]) {
                    value = value * 8 + (scalars[i].value - 48)
                    i += 1
                    n += 1
                }
                out.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            default:
                out.append("\\"); out.append(e); i += 1
            }
        }
        return String(out)
    }
}
