/// The parsed template: statements (`JinjaNode`) holding expressions (`JinjaExpr`). Value types,
/// so a parsed `ChatTemplate` is `Sendable` and can render concurrently.

struct JinjaArguments: Sendable {
    var positional: [JinjaExpr] = []
    var keyword: [(name: String, value: JinjaExpr)] = []
}

indirect enum JinjaExpr: Sendable {
    case literal(JinjaValue)
    case name(String)
    case list([JinjaExpr])
    case dict([(key: JinjaExpr, value: JinjaExpr)])
    case attribute(JinjaExpr, String)
    case item(JinjaExpr, JinjaExpr)
    case slice(JinjaExpr, start: JinjaExpr?, stop: JinjaExpr?, step: JinjaExpr?)
    case call(JinjaExpr, JinjaArguments)
    case filter(JinjaExpr, name: String, JinjaArguments)
    case test(JinjaExpr, name: String, JinjaArguments, negated: Bool)
    /// `not`, unary `-` and `+`.
    case unary(String, JinjaExpr)
    /// Arithmetic and `~`.
    case binary(String, JinjaExpr, JinjaExpr)
    case and(JinjaExpr, JinjaExpr)
    case or(JinjaExpr, JinjaExpr)
    /// Chained comparison `a < b <= c`, including `in` and `not in`.
    case compare(JinjaExpr, [(op: String, rhs: JinjaExpr)])
    /// `a if cond else b` (missing `else` yields undefined).
    case conditional(then: JinjaExpr, condition: JinjaExpr, otherwise: JinjaExpr?)

    /// Short source-like spelling for error messages (`'message' is undefined`).
    var shortDescription: String {
        switch self {
        case .name(let n): return n
        case .attribute(let base, let attr): return base.shortDescription + "." + attr
        case .item(let base, .literal(let key)): return base.shortDescription + "[" + key.pythonRepr + "]"
        default: return "value"
        }
    }
}

enum JinjaSetTarget: Sendable {
    /// `{% set a = ... %}` or tuple unpacking `{% set a, b = ... %}`.
    case names([String])
    /// `{% set ns.attr = ... %}`.
    case attribute(object: String, attribute: String)
}

struct JinjaForLoop: Sendable {
    var targets: [String]
    var iterable: JinjaExpr
    var condition: JinjaExpr?
    var body: [JinjaNode]
    var elseBody: [JinjaNode]
    var line: Int
}

struct MacroDefinition: Sendable {
    var name: String
    var parameters: [(name: String, defaultValue: JinjaExpr?)]
    var body: [JinjaNode]
    var line: Int
}

indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpr, line: Int)
    case conditional(branches: [(condition: JinjaExpr, body: [JinjaNode])], elseBody: [JinjaNode], line: Int)
    case forLoop(JinjaForLoop)
    case set(JinjaSetTarget, JinjaExpr, line: Int)
    /// `{% set x %}...{% endset %}` (optionally filtered: `{% set x | trim %}`).
    case setBlock(JinjaSetTarget, body: [JinjaNode], filters: [(name: String, args: JinjaArguments)], line: Int)
    case macro(MacroDefinition)
    /// `{% filter name %}...{% endfilter %}`.
    case filterBlock(name: String, args: JinjaArguments, body: [JinjaNode], line: Int)
    /// Plain body: `{% generation %}` (HF's AssistantTracker) renders its body unchanged.
    case group([JinjaNode])
    case breakLoop(line: Int)
    case continueLoop(line: Int)
}
