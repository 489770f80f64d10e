import Foundation

/// jinja2's built-in filters used by chat templates, plus HF's `tojson` (Python `json.dumps` with
/// `ensure_ascii=False`, not jinja2's HTML-safe variant).
extension JinjaInterpreter {
    static let filterNames: Set<String> = [
        "trim", "tojson", "length", "count", "string", "items", "list", "join", "first", "last", "reverse",
        "upper", "lower", "capitalize", "title", "replace", "default", "d", "int", "float", "abs", "round",
        "safe", "e", "escape", "forceescape", "indent", "select", "reject", "selectattr", "rejectattr", "map",
        "unique", "sort", "sum", "min", "max", "attr",
    ]

    func applyFilter(_ name: String, to value: JinjaValue, arguments: JinjaArguments, scope: JinjaScope) throws -> JinjaValue {
        let (args, kwargs) = try evaluateArguments(arguments, scope)
        return try applyFilter(name, to: value, JinjaCallArguments(name: name, args: args, kwargs: kwargs))
    }

    func applyFilter(_ name: String, to value: JinjaValue, _ call: JinjaCallArguments) throws -> JinjaValue {
        switch name {
        case "trim":
            return .string(PythonString.strip(value.pythonString, chars: try call.optionalString(0, "chars")))
        case "tojson":
            return .string(try toJSON(value, call))
        case "length", "count":
            switch value {
            case .string(let s): return .int(PythonString.length(s))
            case .array(let items): return .int(items.count)
            case .object(let object): return .int(object.count)
            case .undefined: return .int(0)
            default: throw ChatTemplateError.runtime("object of type '\(value.pythonTypeName)' has no len()")
            }
        case "string": return .string(value.pythonString)
        case "items":
            switch value {
            case .object(let object): return .array(object.pairs.map { .array([.string($0.key), $0.value]) })
            case .undefined: return .array([])
            default: throw ChatTemplateError.runtime("Can only get item pairs from a mapping.")
            }
        case "list": return .array(try iterate(value))
        case "join":
            var items = try iterate(value)
            if let attribute = try call.optionalString(1, "attribute") { items = items.map { lookupPath($0, attribute) } }
            let separator = call.argument(0, "d")?.pythonString ?? ""
            return .string(items.map(\.pythonString).joined(separator: separator))
        case "first": return try iterate(value).first ?? .undefined
        case "last": return try iterate(value).last ?? .undefined
        case "reverse":
            if case .string(let s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .array(try iterate(value).reversed())
        case "upper": return .string(value.pythonString.uppercased())
        case "lower": return .string(value.pythonString.lowercased())
        case "capitalize": return .string(PythonString.capitalize(value.pythonString))
        case "title": return .string(Self.jinjaTitle(value.pythonString))
        case "replace":
            let count = try call.int(2, "count", default: -1)
            return .string(PythonString.replace(value.pythonString, try call.string(0, "old"), try call.string(1, "new"), count: count))
        case "default", "d":
            let fallback = call.argument(0, "default_value") ?? .string("")
            let useFallback = call.bool(1, "boolean", default: false) ? !value.isTruthy : value.isUndefined
            return useFallback ? fallback : value
        case "int": return Self.toInt(value, fallback: call.argument(0, "default") ?? .int(0))
        case "float": return Self.toFloat(value, fallback: call.argument(0, "default") ?? .double(0))
        case "abs":
            switch value {
            case .int(let i) where i != .min: return .int(abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return .double(abs(d))
            default: throw ChatTemplateError.runtime("bad operand type for abs(): '\(value.pythonTypeName)'")
            }
        case "round":
            guard let number = JinjaOperators.number(value) else { throw ChatTemplateError.runtime("round needs a number") }
            let precision = try call.int(0, "precision", default: 0)
            let method = try call.optionalString(1, "method") ?? "common"
            let scale = pow(10.0, Double(precision))
            let scaled = number.asDouble * scale
            let rounded = method == "floor" ? scaled.rounded(.down) : method == "ceil" ? scaled.rounded(.up)
                : scaled.rounded(.toNearestOrAwayFromZero)
            return .double(rounded / scale)
        case "safe": return value
        case "e", "escape", "forceescape": return .string(Self.htmlEscape(value.pythonString))
        case "indent": return .string(try Self.indent(value.pythonString, call))
        case "select", "reject":
            let items = try iterate(value)
            return .array(try items.filter { try passes($0, testArgsFrom: 0, call) == (name == "select") })
        case "selectattr", "rejectattr":
            let attribute = try call.string(0, "attribute")
            let items = try iterate(value)
            return .array(try items.filter {
                try passes(lookupPath($0, attribute), testArgsFrom: 1, call) == (name == "selectattr")
            })
        case "map":
            let items = try iterate(value)
            if let attribute = try call.optionalString(-1, "attribute") {
                let fallback = call.kwargs["default"]
                return .array(items.map { item in
                    let v = lookupPath(item, attribute)
                    return v.isUndefined ? (fallback ?? v) : v
                })
            }
            guard case .string(let filter)? = call.args.first else { throw ChatTemplateError.runtime("map needs a filter name or attribute=") }
            let inner = JinjaCallArguments(name: filter, args: Array(call.args.dropFirst()), kwargs: call.kwargs)
            return .array(try items.map { try applyFilter(filter, to: $0, inner) })
        case "unique":
            var seen: [JinjaValue] = []
            var out: [JinjaValue] = []
            let caseSensitive = call.bool(0, "case_sensitive", default: false)
            for item in try iterate(value) {
                let key = Self.sortKey(item, caseSensitive: caseSensitive)
                if !seen.contains(where: { JinjaOperators.equals($0, key) }) { seen.append(key); out.append(item) }
            }
            return .array(out)
        case "sort":
            let reverse = call.bool(0, "reverse", default: false)
            let caseSensitive = call.bool(1, "case_sensitive", default: false)
            let attribute = try call.optionalString(2, "attribute")
            let keyed = try iterate(value).map { item in
                (Self.sortKey(attribute.map { lookupPath(item, $0) } ?? item, caseSensitive: caseSensitive), item)
            }
            var failure: Error?
            let sorted = keyed.sorted { a, b in
                do { return try JinjaOperators.ordering(reverse ? b.0 : a.0, reverse ? a.0 : b.0, "<") < 0 } catch {
                    failure = error
                    return false
                }
            }
            if let failure { throw failure }
            return .array(sorted.map(\.1))
        case "sum":
            var total = call.argument(1, "start") ?? .int(0)
            let attribute = try call.optionalString(0, "attribute")
            for item in try iterate(value) {
                total = try JinjaOperators.binary("+", total, attribute.map { lookupPath(item, $0) } ?? item)
            }
            return total
        case "min", "max":
            let caseSensitive = call.bool(0, "case_sensitive", default: false)
            let attribute = try call.optionalString(1, "attribute")
            var best: (key: JinjaValue, item: JinjaValue)?
            for item in try iterate(value) {
                let key = Self.sortKey(attribute.map { lookupPath(item, $0) } ?? item, caseSensitive: caseSensitive)
                if let current = best {
                    let order = try JinjaOperators.ordering(key, current.key, "<")
                    if name == "min" ? order < 0 : order > 0 { best = (key, item) }
                } else {
                    best = (key, item)
                }
            }
            return best?.item ?? .undefined
        case "attr":
            return attribute(of: value, try call.string(0, "name"))
        default:
            throw ChatTemplateError.runtime("no filter named '\(name)'")
        }
    }

    /// `select`/`reject`/`selectattr`/`rejectattr`: run the named test (or truthiness when none given).
    private func passes(_ value: JinjaValue, testArgsFrom index: Int, _ call: JinjaCallArguments) throws -> Bool {
        guard index < call.args.count else { return value.isTruthy }
        guard case .string(let test) = call.args[index] else { throw ChatTemplateError.runtime("\(call.name): test name must be a string") }
        return try runTest(test, value, Array(call.args[(index + 1)...]))
    }

    /// jinja2's attribute getter: dotted path, numeric parts index lists (`"a.0.b"`).
    func lookupPath(_ value: JinjaValue, _ path: String) -> JinjaValue {
        var current = value
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            if let index = Int(part) {
                current = item(of: current, .int(index))
            } else {
                current = item(of: current, .string(String(part)))
            }
        }
        return current
    }

    private func toJSON(_ value: JinjaValue, _ call: JinjaCallArguments) throws -> String {
        // HF's signature: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
        var indent: String?
        switch call.argument(1, "indent") {
        case .int(let n)?: indent = String(repeating: " ", count: min(max(0, n), 1024))
        case .string(let s)?: indent = s
        case nil, .none?: indent = nil
        case let other?: throw ChatTemplateError.runtime("tojson: bad indent of type \(other.pythonTypeName)")
        }
        var separators: (String, String)?
        switch call.argument(2, "separators") {
        case .array(let parts)?:
            guard parts.count == 2, case .string(let item) = parts[0], case .string(let key) = parts[1] else {
                throw ChatTemplateError.runtime("tojson: separators must be two strings")
            }
            separators = (item, key)
        case nil, .none?: separators = nil
        case let other?: throw ChatTemplateError.runtime("tojson: bad separators of type \(other.pythonTypeName)")
        }
        return try value.pythonJSON(indent: indent, separators: separators,
                                    sortKeys: call.bool(3, "sort_keys", default: false),
                                    ensureASCII: call.bool(0, "ensure_ascii", default: false))
    }

    private static func sortKey(_ value: JinjaValue, caseSensitive: Bool) -> JinjaValue {
        if !caseSensitive, case .string(let s) = value { return .string(s.lowercased()) }
        return value
    }

    private static func toInt(_ value: JinjaValue, fallback: JinjaValue) -> JinjaValue {
        switch value {
        case .int: return value
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d): return d.isFinite && abs(d) < 9.2e18 ? .int(Int(d)) : fallback
        case .string(let s):
            let text = PythonString.strip(s, chars: nil).replacingOccurrences(of: "_", with: "")
            if let i = Int(text) { return .int(i) }
            if let d = Double(text), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d)) }
            return fallback
        default: return fallback
        }
    }

    private static func toFloat(_ value: JinjaValue, fallback: JinjaValue) -> JinjaValue {
        switch value {
        case .double: return value
        case .int(let i): return .double(Double(i))
        case .bool(let b): return .double(b ? 1 : 0)
        case .string(let s): return Double(PythonString.strip(s, chars: nil)).map(JinjaValue.double) ?? fallback
        default: return fallback
        }
    }

    /// jinja2's `title` filter: capitalise each word split at whitespace, `-`, and opening brackets.
    private static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        for scalar in s.unicodeScalars {
            let isBoundary = PythonFormat.isWhitespace(scalar) || "-({[<".unicodeScalars.contains(scalar)
            if isBoundary {
                out.unicodeScalars.append(scalar)
                atWordStart = true
            } else {
                out += atWordStart ? String(scalar).uppercased() : String(scalar).lowercased()
                atWordStart = false
            }
        }
        return out
    }

    private static func htmlEscape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// jinja2's `indent(width=4, first=False, blank=False)`.
    private static func indent(_ s: String, _ call: JinjaCallArguments) throws -> String {
        let indention: String
        switch call.argument(0, "width") {
        case .string(let text)?: indention = text
        case .int(let n)?: indention = String(repeating: " ", count: min(max(0, n), 1024))
        default: indention = "    "
        }
        let first = call.bool(1, "first", default: false)
        let blank = call.bool(2, "blank", default: false)
        var lines = splitLines(s + "\n")
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indention)
        } else {
            result = lines.isEmpty ? "" : lines.removeFirst()
            if !lines.isEmpty {
                result += "\n" + lines.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
            }
        }
        return first ? indention + result : result
    }

    /// Python `str.splitlines()`.
    static func splitLines(_ s: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousCR = false
        for scalar in s.unicodeScalars {
            if previousCR && scalar == "\n" { previousCR = false; continue }
            previousCR = false
            switch scalar.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                lines.append(String(current))
                current = .init()
                previousCR = scalar == "\r"
            default:
                current.append(scalar)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }
}
