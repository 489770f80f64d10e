import Synchronization

/// A value inside the Jinja interpreter, modelled on the Python objects jinja2 sees when
/// transformers renders a chat template (JSON-like data plus a few callables).
public enum JinjaValue: Sendable, Equatable {
    /// jinja2's default `Undefined`: prints as "", is falsy, iterates as empty.
    case undefined
    /// Python `None`.
    case none
    case bool(Bool)
    case int(Int)
    /// Python `float`; kept apart from `int` because `72.0` must print as `72.0`.
    case double(Double)
    case string(String)
    /// Python list (tuples are represented as lists too).
    case array([JinjaValue])
    /// Python dict; keeps insertion order, which `tojson` and `|string` expose.
    case object(JinjaObject)
    /// jinja2 `namespace()`: the one mutable, reference-typed value (`{% set ns.x = ... %}`).
    case namespace(JinjaNamespace)
    /// A global function such as `raise_exception` or `strftime_now`.
    case function(JinjaFunction)
    /// A `{% macro %}` defined by the template.
    case macro(JinjaMacro)
}

/// An insertion-ordered string-keyed dictionary (Python dict semantics for the JSON subset).
public struct JinjaObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var storage: [String: JinjaValue] = [:]

    public init() {}

    /// Later duplicates overwrite the value but keep the first position, as in Python.
    public init(_ pairs: [(String, JinjaValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }
    public var pairs: [(key: String, value: JinjaValue)] { keys.map { ($0, storage[$0]!) } }
    public var values: [JinjaValue] { keys.map { storage[$0]! } }

    public subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Python dict equality ignores order.
    public static func == (lhs: JinjaObject, rhs: JinjaObject) -> Bool { lhs.storage == rhs.storage }
}

/// The object behind `namespace(...)`; shared by reference so assignments inside loops are visible
/// after them, exactly like jinja2's `Namespace`.
public final class JinjaNamespace: Sendable {
    private let state: Mutex<JinjaObject>

    public init(_ attributes: JinjaObject = JinjaObject()) { state = Mutex(attributes) }

    public var attributes: JinjaObject { state.withLock { $0 } }
    public subscript(name: String) -> JinjaValue? { state.withLock { $0[name] } }
    func set(_ name: String, _ value: JinjaValue) { state.withLock { $0[name] = value } }
}

extension JinjaNamespace: Equatable {
    public static func == (lhs: JinjaNamespace, rhs: JinjaNamespace) -> Bool { lhs === rhs }
}

/// A callable global: positional arguments and keyword arguments in, a value out.
public struct JinjaFunction: Sendable, Equatable {
    public typealias Body = @Sendable (_ args: [JinjaValue], _ kwargs: JinjaObject) throws -> JinjaValue
    public let name: String
    let body: Body

    public init(name: String, _ body: @escaping Body) {
        self.name = name
        self.body = body
    }

    public func callAsFunction(_ args: [JinjaValue], _ kwargs: JinjaObject = JinjaObject()) throws -> JinjaValue {
        try body(args, kwargs)
    }

    public static func == (lhs: JinjaFunction, rhs: JinjaFunction) -> Bool { lhs.name == rhs.name }
}

/// A template-defined macro; the body is interpreted when called.
public struct JinjaMacro: Sendable, Equatable {
    public let name: String
    let definition: MacroDefinition

    public static func == (lhs: JinjaMacro, rhs: JinjaMacro) -> Bool {
        lhs.name == rhs.name && lhs.definition.line == rhs.definition.line
    }
}

// MARK: - Literals (handy for callers and tests)

extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JinjaValue)...) { self = .object(JinjaObject(elements)) }
    public init(nilLiteral: ()) { self = .none }
}

extension JinjaValue {
    /// Python truthiness (`Undefined` is falsy).
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        case .namespace, .function, .macro: return true
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true } else { return false } }

    /// Python type names, used in error messages the way CPython words them.
    var pythonTypeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .object: return "dict"
        case .namespace: return "Namespace"
        case .function: return "builtin_function_or_method"
        case .macro: return "Macro"
        }
    }
}
