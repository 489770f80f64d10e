/// Expression evaluation with jinja2's lookup rules: a missing key or attribute of a real value is
/// Undefined (no error), but any attribute, item, call or arithmetic on an Undefined raises.
extension JinjaInterpreter {
    func evaluate(_ expr: JinjaExpr, _ scope: JinjaScope) throws -> JinjaValue {
        switch expr {
        case .literal(let value):
            return value
        case .name(let name):
            return scope.lookup(name) ?? .undefined
        case .list(let items):
            return .array(try items.map { try evaluate($0, scope) })
        case .dict(let pairs):
            var object = JinjaObject()
            for pair in pairs {
                let key = try evaluate(pair.key, scope)
                guard case .string(let name) = key else {
                    throw ChatTemplateError.runtime("only string keys are supported in dict literals, got \(key.pythonTypeName)")
                }
                object[name] = try evaluate(pair.value, scope)
            }
            return .object(object)
        case .attribute(let baseExpr, let name):
            let base = try evaluate(baseExpr, scope)
            try requireDefined(base, baseExpr)
            return attribute(of: base, name)
        case .item(let baseExpr, let indexExpr):
            let base = try evaluate(baseExpr, scope)
            try requireDefined(base, baseExpr)
            return item(of: base, try evaluate(indexExpr, scope))
        case .slice(let baseExpr, let startExpr, let stopExpr, let stepExpr):
            let base = try evaluate(baseExpr, scope)
            try requireDefined(base, baseExpr)
            let bounds = try [startExpr, stopExpr, stepExpr].map { expr -> Int? in
                guard let expr else { return nil }
                switch try evaluate(expr, scope) {
                case .int(let i): return i
                case .bool(let b): return b ? 1 : 0
                case .none: return nil
                default: throw ChatTemplateError.runtime("slice indices must be integers or None")
                }
            }
            return try Self.slice(base, start: bounds[0], stop: bounds[1], step: bounds[2])
        case .call(let callee, let arguments):
            let (args, kwargs) = try evaluateArguments(arguments, scope)
            if case .attribute(let baseExpr, let name) = callee {
                let base = try evaluate(baseExpr, scope)
                try requireDefined(base, baseExpr)
                if let result = try callMethod(on: base, name, args, kwargs) { return result }
                return try call(attribute(of: base, name), args, kwargs, callee)
            }
            return try call(try evaluate(callee, scope), args, kwargs, callee)
        case .filter(let baseExpr, let name, let arguments):
            return try applyFilter(name, to: try evaluate(baseExpr, scope), arguments: arguments, scope: scope)
        case .test(let baseExpr, let name, let arguments, let negated):
            let value = try evaluate(baseExpr, scope)
            let (args, _) = try evaluateArguments(arguments, scope)
            return .bool(try runTest(name, value, args) != negated)
        case .unary(let op, let operandExpr):
            let operand = try evaluate(operandExpr, scope)
            if op == "not" { return .bool(!operand.isTruthy) }
            try requireDefined(operand, operandExpr)
            return try JinjaOperators.unary(op, operand)
        case .binary(let op, let lhsExpr, let rhsExpr):
            let lhs = try evaluate(lhsExpr, scope)
            let rhs = try evaluate(rhsExpr, scope)
            if op == "~" { return .string(lhs.pythonString + rhs.pythonString) }
            try requireDefined(lhs, lhsExpr)
            try requireDefined(rhs, rhsExpr)
            return try JinjaOperators.binary(op, lhs, rhs)
        case .and(let lhsExpr, let rhsExpr):
            let lhs = try evaluate(lhsExpr, scope)
            return lhs.isTruthy ? try evaluate(rhsExpr, scope) : lhs
        case .or(let lhsExpr, let rhsExpr):
            let lhs = try evaluate(lhsExpr, scope)
            return lhs.isTruthy ? lhs : try evaluate(rhsExpr, scope)
        case .compare(let firstExpr, let comparisons):
            var lhs = try evaluate(firstExpr, scope)
            var lhsExpr = firstExpr
            for comparison in comparisons {
                let rhs = try evaluate(comparison.rhs, scope)
                if !["==", "!=", "in", "not in"].contains(comparison.op) {
                    try requireDefined(lhs, lhsExpr)
                    try requireDefined(rhs, comparison.rhs)
                }
                guard try JinjaOperators.compare(comparison.op, lhs, rhs) else { return .bool(false) }
                lhs = rhs
                lhsExpr = comparison.rhs
            }
            return .bool(true)
        case .conditional(let thenExpr, let conditionExpr, let otherwiseExpr):
            if try evaluate(conditionExpr, scope).isTruthy { return try evaluate(thenExpr, scope) }
            return try otherwiseExpr.map { try evaluate($0, scope) } ?? .undefined
        }
    }

    func evaluateArguments(_ arguments: JinjaArguments, _ scope: JinjaScope) throws -> ([JinjaValue], JinjaObject) {
        let args = try arguments.positional.map { try evaluate($0, scope) }
        var kwargs = JinjaObject()
        for keyword in arguments.keyword { kwargs[keyword.name] = try evaluate(keyword.value, scope) }
        return (args, kwargs)
    }

    /// jinja2's `UndefinedError` for using an undefined value (as opposed to merely testing it).
    func requireDefined(_ value: JinjaValue, _ expr: JinjaExpr) throws {
        guard case .undefined = value else { return }
        throw ChatTemplateError.runtime("'\(expr.shortDescription)' is undefined")
    }

    /// `x.name`: dict key, namespace attribute, otherwise Undefined.
    func attribute(of value: JinjaValue, _ name: String) -> JinjaValue {
        switch value {
        case .object(let object): return object[name] ?? .undefined
        case .namespace(let ns): return ns[name] ?? .undefined
        default: return .undefined
        }
    }

    /// `x[key]`: list/string index (negative counts from the end), dict key; misses are Undefined.
    func item(of value: JinjaValue, _ key: JinjaValue) -> JinjaValue {
        var index: Int?
        switch key {
        case .int(let i): index = i
        case .bool(let b): index = b ? 1 : 0
        default: index = nil
        }
        switch value {
        case .array(let items):
            guard var i = index else { return .undefined }
            if i < 0 { i += items.count }
            return items.indices.contains(i) ? items[i] : .undefined
        case .string(let s):
            guard var i = index else { return .undefined }
            let scalars = Array(s.unicodeScalars)
            if i < 0 { i += scalars.count }
            return scalars.indices.contains(i) ? .string(String(scalars[i])) : .undefined
        case .object(let object):
            guard case .string(let name) = key else { return .undefined }
            return object[name] ?? .undefined
        case .namespace(let ns):
            guard case .string(let name) = key else { return .undefined }
            return ns[name] ?? .undefined
        default:
            return .undefined
        }
    }

    /// Python slicing `x[start:stop:step]` of lists and strings.
    static func slice(_ value: JinjaValue, start: Int?, stop: Int?, step: Int?) throws -> JinjaValue {
        let step = step ?? 1
        guard step != 0 else { throw ChatTemplateError.runtime("slice step cannot be zero") }
        func indices(_ n: Int) -> [Int] {
            let (lower, upper) = step > 0 ? (0, n) : (-1, n - 1)
            func clamp(_ v: Int?, _ fallback: Int) -> Int {
                guard let v else { return fallback }
                return v < 0 ? max(v + n, lower) : min(v, upper)
            }
            var i = clamp(start, step > 0 ? lower : upper)
            let end = clamp(stop, step > 0 ? upper : lower)
            var out: [Int] = []
            while step > 0 ? i < end : i > end {
                out.append(i)
                let (next, overflow) = i.addingReportingOverflow(step)
                if overflow { break }
                i = next
            }
            return out
        }
        switch value {
        case .array(let items): return .array(indices(items.count).map { items[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        default:
            throw ChatTemplateError.runtime("'\(value.pythonTypeName)' object is not subscriptable")
        }
    }

    func call(_ callee: JinjaValue, _ args: [JinjaValue], _ kwargs: JinjaObject, _ calleeExpr: JinjaExpr) throws -> JinjaValue {
        switch callee {
        case .function(let function): return try function(args, kwargs)
        case .macro(let macro): return try callMacro(macro, args, kwargs)
        case .undefined: throw ChatTemplateError.runtime("'\(calleeExpr.shortDescription)' is undefined")
        default: throw ChatTemplateError.runtime("'\(callee.pythonTypeName)' object is not callable")
        }
    }
}
