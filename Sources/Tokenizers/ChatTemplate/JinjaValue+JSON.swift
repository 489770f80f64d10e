import Foundation

// JSON in and out. Templates expose key order (`tojson`, `| string`, `| items`) and the int/float
// distinction (`72.0` vs `72`), so input is parsed by hand rather than through JSONSerialization,
// whose dictionaries lose order and whose numbers blur the two kinds.

extension JinjaValue {
    /// Parses JSON text keeping object key order and keeping integers (`72`) apart from floats (`72.0`).
    public init(jsonString text: String) throws {
        var parser = OrderedJSONParser(bytes: Array(text.utf8))
        self = try parser.parseDocument()
    }

    /// Same as `init(jsonString:)` for UTF-8 data (a leading BOM is skipped).
    public init(jsonData data: Data) throws {
        var parser = OrderedJSONParser(bytes: Array(data))
        self = try parser.parseDocument()
    }

    /// Converts `JSONSerialization`-style output (`[String: Any]`, `[Any]`, `NSNumber`, `NSNull`, ...).
    /// Swift dictionaries have no order, so object keys come out sorted; prefer `init(jsonString:)`
    /// when the order of keys matters to the template.
    public init(json: Any) {
        switch json {
        case let value as JinjaValue: self = value
        case is NSNull: self = .none
        case let string as String: self = .string(string)
        case let number as NSNumber:
            // Linux Foundation hands back NSNumber for JSON booleans too; the type code tells them apart.
            let code = String(cString: number.objCType)
            if code == "c" || code == "B" {
                self = .bool(number.boolValue)
            } else if code == "d" || code == "f" {
                self = .double(number.doubleValue)
            } else {
                self = .int(number.intValue)
            }
        case let bool as Bool: self = .bool(bool)
        case let int as Int: self = .int(int)
        case let double as Double: self = .double(double)
        case let array as [Any]: self = .array(array.map { JinjaValue(json: $0) })
        case let dict as [String: Any]:
            self = .object(JinjaObject(dict.keys.sorted().map { ($0, JinjaValue(json: dict[$0]!)) }))
        case Optional<Any>.none: self = .none
        default: self = .string(String(describing: json))
        }
    }

    /// Python `json.dumps(value, ensure_ascii=, indent=, separators=, sort_keys=)`, which is what
    /// transformers installs as the `tojson` filter.
    public func pythonJSON(
        indent: String? = nil, separators: (item: String, key: String)? = nil,
        sortKeys: Bool = false, ensureASCII: Bool = false
    ) throws -> String {
        let seps = separators ?? (indent == nil ? (", ", ": ") : (",", ": "))
        var out = ""
        try JSONWriter(indent: indent, itemSeparator: seps.item, keySeparator: seps.key,
                       sortKeys: sortKeys, ensureASCII: ensureASCII).write(self, level: 0, into: &out)
        return out
    }
}

private struct JSONWriter {
    let indent: String?
    let itemSeparator: String
    let keySeparator: String
    let sortKeys: Bool
    let ensureASCII: Bool

    func write(_ value: JinjaValue, level: Int, into out: inout String) throws {
        guard level < 512 else { throw ChatTemplateError.runtime("tojson: nesting too deep") }
        switch value {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else {
                out += PythonFormat.floatRepr(d)
            }
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            try writeContainer("[", "]", items.count, level, &out) { index, out in
                try write(items[index], level: level + 1, into: &out)
            }
        case .object(let object):
            var keys = object.keys
            if sortKeys { keys.sort { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) } }
            try writeContainer("{", "}", keys.count, level, &out) { index, out in
                writeString(keys[index], into: &out)
                out += keySeparator
                try write(object[keys[index]]!, level: level + 1, into: &out)
            }
        case .undefined, .namespace, .function, .macro:
            throw ChatTemplateError.runtime("Object of type \(value.pythonTypeName) is not JSON serializable")
        }
    }

    private func writeContainer(
        _ open: String, _ close: String, _ count: Int, _ level: Int, _ out: inout String,
        _ element: (Int, inout String) throws -> Void
    ) throws {
        out += open
        guard count > 0 else { out += close; return }
        let inner = indent.map { "\n" + String(repeating: $0, count: level + 1) }
        for index in 0..<count {
            if index > 0 { out += itemSeparator }
            if let inner { out += inner }
            try element(index, &out)
        }
        if let indent { out += "\n" + String(repeating: indent, count: level) }
        out += close
    }

    private func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value >= 0x7F) {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        out += "\\u" + PythonFormat.hex(0xD800 + (v >> 10), width: 4)
                        out += "\\u" + PythonFormat.hex(0xDC00 + (v & 0x3FF), width: 4)
                    } else {
                        out += "\\u" + PythonFormat.hex(scalar.value, width: 4)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// A small recursive-descent JSON reader over UTF-8 bytes.
private struct OrderedJSONParser {
    let bytes: [UInt8]
    var pos = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }
    }

    mutating func parseDocument() throws -> JinjaValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard pos == bytes.count else { throw fail("trailing characters") }
        return value
    }

    private func fail(_ what: String) -> ChatTemplateError {
        .runtime("invalid JSON at byte \(pos): \(what)")
    }

    private mutating func skipWhitespace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    private mutating func parseValue(depth: Int) throws -> JinjaValue {
        guard depth < 512 else { throw fail("nesting too deep") }
        skipWhitespace()
        guard pos < bytes.count else { throw fail("unexpected end") }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            var object = JinjaObject()
            skipWhitespace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(object) }
            while true {
                skipWhitespace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected key") }
                let key = try parseString()
                skipWhitespace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                pos += 1
                object[key] = try parseValue(depth: depth + 1)
                skipWhitespace()
                guard pos < bytes.count else { throw fail("unterminated object") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(object) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            pos += 1
            var items: [JinjaValue] = []
            skipWhitespace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard pos < bytes.count else { throw fail("unterminated array") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .none)
        case UInt8(ascii: "N"): return try literal("NaN", .double(.nan))
        case UInt8(ascii: "I"): return try literal("Infinity", .double(.infinity))
        default: return try parseNumber()
        }
    }

    private mutating func literal(_ word: String, _ value: JinjaValue) throws -> JinjaValue {
        let w = Array(word.utf8)
        guard bytes[pos...].starts(with: w) else { throw fail("unexpected character") }
        pos += w.count
        return value
    }

    private mutating func parseNumber() throws -> JinjaValue {
        let start = pos
        var isFloat = false
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") {
            pos += 1
            if bytes[pos...].starts(with: Array("Infinity".utf8)) { pos += 8; return .double(-.infinity) }
        }
        while pos < bytes.count {
            let b = bytes[pos]
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                pos += 1
            } else if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
                || ((b == UInt8(ascii: "+") || b == UInt8(ascii: "-")) && isFloat)
            {
                isFloat = true
                pos += 1
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard !text.isEmpty, text != "-" else { throw fail("unexpected character") }
        if !isFloat, let int = Int(text) { return .int(int) }
        guard let double = Double(text) else { throw fail("bad number '\(text)'") }
        return .double(double)
    }

    private mutating func parseString() throws -> String {
        pos += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = pos
        func flush(_ end: Int) { scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars) }
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                flush(pos)
                pos += 1
                return String(scalars)
            }
            guard b == UInt8(ascii: "\\") else { pos += 1; continue }
            flush(pos)
            pos += 1
            guard pos < bytes.count else { break }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), bytes[pos...].starts(with: [0x5C, 0x75]) {
                    let save = pos
                    pos += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        pos = save
                    }
                }
                // Lone surrogates cannot live in a Swift String; they become U+FFFD.
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: scalars.append(Unicode.Scalar(e))  // \" \\ \/
            }
            runStart = pos
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count,
              let v = UInt32(String(decoding: bytes[pos..<pos + 4], as: UTF8.self), radix: 16)
        else { throw fail("bad \\u escape") }
        pos += 4
        return v
    }
}
