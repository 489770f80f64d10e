import Foundation

/// Python operator semantics for the value subset: numeric tower with bool as int, str/list `+` and `*`,
/// `/` always float, floor `//` and `%`, cross-type `==`, code-point string ordering.
/// Integer overflow throws (Python would switch to big integers) rather than trapping.
enum JinjaOperators {
    enum Number {
        case int(Int)
        case double(Double)
        var asDouble: Double {
            switch self {
            case .int(let i): return Double(i)
            case .double(let d): return d
            }
        }
    }

    static func number(_ value: JinjaValue) -> Number? {
        switch value {
        case .int(let i): return .int(i)
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d): return .double(d)
        default: return nil
        }
    }

    /// Upper bound for `str * n` / `list * n` results, so a template cannot exhaust memory.
    static let maxRepeatedLength = 16 << 20

    static func unary(_ op: String, _ value: JinjaValue) throws -> JinjaValue {
        guard let n = number(value) else {
            throw ChatTemplateError.runtime("bad operand type for unary \(op): '\(value.pythonTypeName)'")
        }
        switch (op, n) {
        case ("+", .int(let i)): return .int(i)
        case ("+", .double(let d)): return .double(d)
        case ("-", .int(let i)):
            guard i != .min else { throw overflow() }
            return .int(-i)
        case (_, .double(let d)): return .double(-d)
        default: throw ChatTemplateError.runtime("unknown operator \(op)")
        }
    }

    static func binary(_ op: String, _ lhs: JinjaValue, _ rhs: JinjaValue) throws -> JinjaValue {
        if let a = number(lhs), let b = number(rhs) { return try arithmetic(op, a, b) }
        switch (op, lhs, rhs) {
        case ("+", .string(let a), .string(let b)): return .string(a + b)
        case ("+", .array(let a), .array(let b)): return .array(a + b)
        case ("+", .string, _), ("+", .array, _):
            throw ChatTemplateError.runtime(
                "can only concatenate \(lhs.pythonTypeName) (not \"\(rhs.pythonTypeName)\") to \(lhs.pythonTypeName)")
        case ("*", .string(let s), _), ("*", _, .string(let s)):
            guard let count = repeatCount(op, lhs, rhs) else { break }
            guard fitsRepeated(s.utf8.count, count) else { throw ChatTemplateError.runtime("repeated string too large") }
            return .string(String(repeating: s, count: count))
        case ("*", .array(let items), _), ("*", _, .array(let items)):
            guard let count = repeatCount(op, lhs, rhs) else { break }
            guard fitsRepeated(items.count, count) else { throw ChatTemplateError.runtime("repeated list too large") }
            return .array(Array([[JinjaValue]](repeating: items, count: count).joined()))
        case ("%", .string, _):
            throw ChatTemplateError.runtime("printf-style string formatting ('%') is not supported")
        default: break
        }
        throw ChatTemplateError.runtime(
            "unsupported operand type(s) for \(op): '\(lhs.pythonTypeName)' and '\(rhs.pythonTypeName)'")
    }

    private static func fitsRepeated(_ length: Int, _ count: Int) -> Bool {
        let (total, overflow) = length.multipliedReportingOverflow(by: count)
        return !overflow && total <= maxRepeatedLength
    }

    private static func repeatCount(_ op: String, _ lhs: JinjaValue, _ rhs: JinjaValue) -> Int? {
        let other: JinjaValue
        switch lhs {
        case .string, .array: other = rhs
        default: other = lhs
        }
        switch other {
        case .int(let n): return max(0, n)
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    private static func overflow() -> ChatTemplateError { .runtime("integer overflow") }

    private static func arithmetic(_ op: String, _ a: Number, _ b: Number) throws -> JinjaValue {
        if case .int(let x) = a, case .int(let y) = b {
            switch op {
            case "+", "-", "*":
                let (r, o) = op == "+" ? x.addingReportingOverflow(y)
                    : op == "-" ? x.subtractingReportingOverflow(y) : x.multipliedReportingOverflow(by: y)
                if o { throw overflow() }
                return .int(r)
            case "//", "%":
                guard y != 0 else { throw ChatTemplateError.runtime("integer division or modulo by zero") }
                guard !(x == .min && y == -1) else { throw overflow() }
                var q = x / y
                var r = x % y
                if r != 0 && ((r < 0) != (y < 0)) { q -= 1; r += y }  // Python floors toward -inf
                return .int(op == "//" ? q : r)
            case "**":
                if y < 0 { return .double(pow(Double(x), Double(y))) }
                var result = 1
                var base = x
                var exp = y
                while exp > 0 {
                    if exp & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw overflow() }
                        result = r
                    }
                    exp >>= 1
                    if exp > 0 {
                        let (sq, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw overflow() }
                        base = sq
                    }
                }
                return .int(result)
            default: break
            }
        }
        let x = a.asDouble
        let y = b.asDouble
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw ChatTemplateError.runtime("division by zero") }
            return .double(x / y)
        case "//":
            guard y != 0 else { throw ChatTemplateError.runtime("float floor division by zero") }
            return .double((x / y).rounded(.down))
        case "%":
            guard y != 0 else { throw ChatTemplateError.runtime("float modulo") }
            var r = x.truncatingRemainder(dividingBy: y)
            if r != 0 && ((r < 0) != (y < 0)) { r += y }
            return .double(r)
        case "**": return .double(pow(x, y))
        default: throw ChatTemplateError.runtime("unknown operator \(op)")
        }
    }

    // MARK: - Comparison

    static func compare(_ op: String, _ lhs: JinjaValue, _ rhs: JinjaValue) throws -> Bool {
        switch op {
        case "==": return equals(lhs, rhs)
        case "!=": return !equals(lhs, rhs)
        case "in": return try contains(rhs, lhs)
        case "not in": return try !contains(rhs, lhs)
        default:
            let order = try ordering(lhs, rhs, op)
            switch op {
            case "<": return order < 0
            case "<=": return order <= 0
            case ">": return order > 0
            default: return order >= 0
            }
        }
    }

    /// Python `==`: `1 == 1.0 == True`, dicts ignore order, strings compare code points.
    static func equals(_ lhs: JinjaValue, _ rhs: JinjaValue) -> Bool {
        if let a = number(lhs), let b = number(rhs) {
            if case .int(let x) = a, case .int(let y) = b { return x == y }
            return a.asDouble == b.asDouble
        }
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { equals($0, $1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.pairs.allSatisfy { pair in b[pair.key].map { equals(pair.value, $0) } ?? false }
        case (.none, .none), (.undefined, .undefined): return true
        default: return lhs == rhs
        }
    }

    /// -1, 0, 1 like Python's rich comparison for numbers, strings and lists.
    static func ordering(_ lhs: JinjaValue, _ rhs: JinjaValue, _ op: String) throws -> Int {
        if let a = number(lhs), let b = number(rhs) {
            if case .int(let x) = a, case .int(let y) = b { return x < y ? -1 : (x == y ? 0 : 1) }
            let x = a.asDouble, y = b.asDouble
            return x < y ? -1 : (x == y ? 0 : 1)
        }
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)):
            if a.unicodeScalars.elementsEqual(b.unicodeScalars) { return 0 }
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value } ? -1 : 1
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) where !equals(x, y) { return try ordering(x, y, op) }
            return a.count < b.count ? -1 : (a.count == b.count ? 0 : 1)
        default:
            throw ChatTemplateError.runtime(
                "'\(op)' not supported between instances of '\(lhs.pythonTypeName)' and '\(rhs.pythonTypeName)'")
        }
    }

    /// Python `item in container`; Undefined contains nothing.
    static func contains(_ container: JinjaValue, _ item: JinjaValue) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let needle) = item else {
                throw ChatTemplateError.runtime("'in <string>' requires string as left operand, not \(item.pythonTypeName)")
            }
            return PythonString.find(needle, in: s) != nil
        case .array(let items): return items.contains { equals($0, item) }
        case .object(let object):
            guard case .string(let key) = item else { return false }
            return object[key] != nil
        case .namespace(let ns):
            guard case .string(let key) = item else { return false }
            return ns[key] != nil
        case .undefined: return false
        default:
            throw ChatTemplateError.runtime("argument of type '\(container.pythonTypeName)' is not iterable")
        }
    }
}
