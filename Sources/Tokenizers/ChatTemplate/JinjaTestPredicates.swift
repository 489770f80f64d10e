/// jinja2's tests (`x is defined`, `x is mapping`, `x is equalto y`, ...), with Python's type model:
/// bools are numbers, strings are iterable sequences, and Undefined is iterable (jinja2's Undefined
/// defines `__iter__`, which the Hermes template relies on).
extension JinjaInterpreter {
    func runTest(_ name: String, _ value: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
        func operand() throws -> JinjaValue {
            guard let first = args.first else { throw ChatTemplateError.runtime("test '\(name)' needs an argument") }
            return first
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "string": if case .string = value { return true } else { return false }
        case "mapping": if case .object = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": return value == .bool(true)
        case "false": return value == .bool(false)
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number": return JinjaOperators.number(value) != nil
        case "iterable", "sequence":
            switch value {
            case .string, .array, .object, .undefined: return true
            default: return false
            }
        case "callable":
            switch value {
            case .function, .macro: return true
            default: return false
            }
        case "odd", "even":
            guard case .int(let i) = value else { throw ChatTemplateError.runtime("test '\(name)' needs an integer") }
            return (i % 2 != 0) == (name == "odd")
        case "divisibleby":
            guard case .int(let i) = value, case .int(let n) = try operand(), n != 0 else {
                throw ChatTemplateError.runtime("test 'divisibleby' needs non-zero integers")
            }
            return i.remainderReportingOverflow(dividingBy: n).partialValue == 0
        case "eq", "equalto", "==": return JinjaOperators.equals(value, try operand())
        case "ne", "!=": return !JinjaOperators.equals(value, try operand())
        case "lt", "lessthan", "<": return try JinjaOperators.compare("<", value, try operand())
        case "le", "<=": return try JinjaOperators.compare("<=", value, try operand())
        case "gt", "greaterthan", ">": return try JinjaOperators.compare(">", value, try operand())
        case "ge", ">=": return try JinjaOperators.compare(">=", value, try operand())
        case "in": return try JinjaOperators.contains(try operand(), value)
        case "sameas": return value == (try operand())
        case "lower", "upper":
            guard case .string(let s) = value else { return false }
            return s == (name == "lower" ? s.lowercased() : s.uppercased())
        case "escaped": return false
        case "filter": if case .string(let s) = value { return Self.filterNames.contains(s) } else { return false }
        case "test": if case .string(let s) = value { return Self.testNames.contains(s) } else { return false }
        default:
            throw ChatTemplateError.runtime("no test named '\(name)'")
        }
    }

    static let testNames: Set<String> = [
        "defined", "undefined", "none", "string", "mapping", "boolean", "true", "false", "integer", "float",
        "number", "iterable", "sequence", "callable", "odd", "even", "divisibleby", "eq", "equalto", "==",
        "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas",
        "lower", "upper", "escaped", "filter", "test",
    ]
}
