/// Python's `str()` / `repr()` of values. Templates print non-strings (`{{ true }}`, `tool | string`),
/// and the goldens hold CPython's exact spelling: `True`, `None`, `72.0`, `{'a': "it's"}`.
extension JinjaValue {
    /// What `{{ value }}` and `value | string` print (jinja2 prints Undefined as "").
    public var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return pythonRepr
        }
    }

    /// Python `repr()`, used for items inside lists and dicts.
    public var pythonRepr: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return PythonFormat.floatRepr(d)
        case .string(let s): return PythonFormat.stringRepr(s)
        case .array(let items): return "[" + items.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .object(let object):
            let body = object.pairs.map { PythonFormat.stringRepr($0.key) + ": " + $0.value.pythonRepr }
            return "{" + body.joined(separator: ", ") + "}"
        case .namespace(let ns): return "<Namespace " + JinjaValue.object(ns.attributes).pythonRepr + ">"
        case .function(let f): return "<built-in function \(f.name)>"
        case .macro(let m): return "<Macro '\(m.name)'>"
        }
    }
}

enum PythonFormat {
    /// CPython `float.__repr__`: shortest round-trip digits, fixed notation for exponents in
    /// [-4, 16), otherwise `1e+16` style with at least two exponent digits.
    static func floatRepr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        // Swift's description already has the shortest round-trip digits; only the layout differs.
        var text = Substring(value.description)
        var sign = ""
        if text.first == "-" { sign = "-"; text = text.dropFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = parts.first.map(String.init) ?? "0"
        let fracPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = Array(intPart + fracPart)
        var pointPosition = intPart.count + exponent  // value = 0.<digits> * 10^pointPosition
        while digits.count > 1 && digits.first == "0" { digits.removeFirst(); pointPosition -= 1 }
        while digits.count > 1 && digits.last == "0" { digits.removeLast() }
        if digits == ["0"] { return sign + "0.0" }
        let decimalExponent = pointPosition - 1
        let digitString = String(digits)
        if decimalExponent >= -4 && decimalExponent < 16 {
            if pointPosition <= 0 {
                return sign + "0." + String(repeating: "0", count: -pointPosition) + digitString
            }
            if pointPosition >= digits.count {
                return sign + digitString + String(repeating: "0", count: pointPosition - digits.count) + ".0"
            }
            return sign + String(digits[..<pointPosition]) + "." + String(digits[pointPosition...])
        }
        let mantissa = digits.count > 1 ? String(digits[0]) + "." + String(digits[1...]) : String(digits[0])
        let magnitude = abs(decimalExponent)
        let expDigits = magnitude < 10 ? "0\(magnitude)" : "\(magnitude)"
        return sign + mantissa + "e" + (decimalExponent < 0 ? "-" : "+") + expDigits
    }

    /// CPython `str.__repr__`: single quotes unless the text has `'` and no `"`; non-printable
    /// characters as `\xNN`, `\uNNNN`, `\UNNNNNNNN`.
    static func stringRepr(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let quote: Unicode.Scalar = scalars.contains("'") && !scalars.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in scalars {
            switch scalar {
            case quote, "\\": out += "\\" + String(scalar)
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else if scalar.value < 0x7F || isPrintable(scalar) {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value <= 0xFF {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else if scalar.value <= 0xFFFF {
                    out += "\\u" + hex(scalar.value, width: 4)
                } else {
                    out += "\\U" + hex(scalar.value, width: 8)
                }
            }
        }
        out.unicodeScalars.append(quote)
        return out
    }

    /// Python `str.isprintable` for one character: everything but categories C* and Z* (except space).
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
            .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Python `str.isspace` for one character (Unicode White_Space plus the \x1c-\x1f separators).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }
}
