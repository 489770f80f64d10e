/// A variable frame. jinja2 gives every loop iteration and every macro call its own frame, while
/// `if` blocks share their parent's; `{% set %}` writes to the innermost frame.
final class JinjaScope {
    var variables: [String: JinjaValue]
    let parent: JinjaScope?

    init(parent: JinjaScope?, variables: [String: JinjaValue] = [:]) {
        self.parent = parent
        self.variables = variables
    }

    func lookup(_ name: String) -> JinjaValue? {
        var scope: JinjaScope? = self
        while let current = scope {
            if let value = current.variables[name] { return value }
            scope = current.parent
        }
        return nil
    }
}

/// Executes a parsed template. One instance per render; not shared across threads.
final class JinjaInterpreter {
    enum ControlFlow { case normal, breakLoop, continueLoop }

    let root: JinjaScope
    private var macroDepth = 0
    static let maxMacroDepth = 64
    /// Guards against templates that try to build unbounded output (`'x' * 10**12`, endless loops).
    static let maxOutputLength = 64 << 20

    init(context: [String: JinjaValue]) {
        root = JinjaScope(parent: nil, variables: JinjaGlobals.defaults.merging(context) { $1 })
    }

    func render(_ nodes: [JinjaNode]) throws -> String {
        var out = ""
        _ = try execute(nodes, scope: root, into: &out)
        return out
    }

    func execute(_ nodes: [JinjaNode], scope: JinjaScope, into out: inout String) throws -> ControlFlow {
        for node in nodes {
            let flow = try execute(node, scope: scope, into: &out)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ node: JinjaNode, scope: JinjaScope, into out: inout String) throws -> ControlFlow {
        switch node {
        case .text(let text):
            out += text
        case .output(let expr, let line):
            out += try located(line) { try evaluate(expr, scope).pythonString }
            guard out.utf8.count <= Self.maxOutputLength else {
                throw ChatTemplateError.runtime(message: "output too large", line: line)
            }
        case .conditional(let branches, let elseBody, let line):
            for branch in branches {
                if try located(line, { try evaluate(branch.condition, scope).isTruthy }) {
                    return try execute(branch.body, scope: scope, into: &out)
                }
            }
            return try execute(elseBody, scope: scope, into: &out)
        case .forLoop(let loop):
            try executeFor(loop, scope: scope, into: &out)
        case .set(let target, let expr, let line):
            try located(line) { try assign(target, try evaluate(expr, scope), scope: scope) }
        case .setBlock(let target, let body, let filters, let line):
            var captured = ""
            _ = try execute(body, scope: JinjaScope(parent: scope), into: &captured)
            try located(line) {
                var value = JinjaValue.string(captured)
                for filter in filters {
                    value = try applyFilter(filter.name, to: value, arguments: filter.args, scope: scope)
                }
                try assign(target, value, scope: scope)
            }
        case .macro(let definition):
            scope.variables[definition.name] = .macro(JinjaMacro(name: definition.name, definition: definition))
        case .filterBlock(let name, let args, let body, let line):
            var captured = ""
            _ = try execute(body, scope: JinjaScope(parent: scope), into: &captured)
            out += try located(line) {
                try applyFilter(name, to: .string(captured), arguments: args, scope: scope).pythonString
            }
        case .group(let body):
            return try execute(body, scope: scope, into: &out)
        case .breakLoop: return .breakLoop
        case .continueLoop: return .continueLoop
        }
        return .normal
    }

    /// Runs `body`, attaching `line` to runtime errors that lack one.
    private func located<T>(_ line: Int, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ChatTemplateError { throw error.located(at: line) }
    }

    private func assign(_ target: JinjaSetTarget, _ value: JinjaValue, scope: JinjaScope) throws {
        switch target {
        case .names(let names):
            if names.count == 1 {
                scope.variables[names[0]] = value
            } else {
                for (name, item) in zip(names, try unpack(value, count: names.count)) { scope.variables[name] = item }
            }
        case .attribute(let objectName, let attribute):
            guard case .namespace(let ns)? = scope.lookup(objectName) else {
                throw ChatTemplateError.runtime("cannot assign attribute on non-namespace object")
            }
            // transformers' namespace refuses private-looking names (sandbox rule).
            guard !attribute.hasPrefix("_") else {
                throw ChatTemplateError.runtime("access to attribute '\(attribute)' of 'Namespace' object is unsafe")
            }
            ns.set(attribute, value)
        }
    }

    private func unpack(_ value: JinjaValue, count: Int) throws -> [JinjaValue] {
        let items = try iterate(value)
        guard items.count == count else {
            throw ChatTemplateError.runtime(items.count < count
                ? "not enough values to unpack (expected \(count), got \(items.count))"
                : "too many values to unpack (expected \(count))")
        }
        return items
    }

    /// What a Python `for` loop sees: list items, dict keys, string characters; Undefined is empty.
    func iterate(_ value: JinjaValue) throws -> [JinjaValue] {
        switch value {
        case .array(let items): return items
        case .object(let object): return object.keys.map(JinjaValue.string)
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        case .namespace(let ns): return ns.attributes.keys.map(JinjaValue.string)
        default: throw ChatTemplateError.runtime("'\(value.pythonTypeName)' object is not iterable")
        }
    }

    private func executeFor(_ loop: JinjaForLoop, scope: JinjaScope, into out: inout String) throws {
        var items = try located(loop.line) { try iterate(try evaluate(loop.iterable, scope)) }
        func bind(_ item: JinjaValue, in frame: JinjaScope) throws {
            if loop.targets.count == 1 {
                frame.variables[loop.targets[0]] = item
            } else {
                for (name, part) in zip(loop.targets, try unpack(item, count: loop.targets.count)) {
                    frame.variables[name] = part
                }
            }
        }
        if let condition = loop.condition {
            // The loop filter runs before iteration, so loop.index/length/last count kept items only.
            items = try located(loop.line) {
                try items.filter { item in
                    let frame = JinjaScope(parent: scope)
                    try bind(item, in: frame)
                    return try evaluate(condition, frame).isTruthy
                }
            }
        }
        if items.isEmpty {
            _ = try execute(loop.elseBody, scope: JinjaScope(parent: scope), into: &out)
            return
        }
        for (index, item) in items.enumerated() {
            let frame = JinjaScope(parent: scope)
            try located(loop.line) { try bind(item, in: frame) }
            frame.variables["loop"] = Self.loopObject(index: index, items: items)
            if try execute(loop.body, scope: frame, into: &out) == .breakLoop { break }
        }
    }

    private static func loopObject(index: Int, items: [JinjaValue]) -> JinjaValue {
        let count = items.count
        var loop = JinjaObject()
        loop["index"] = .int(index + 1)
        loop["index0"] = .int(index)
        loop["revindex"] = .int(count - index)
        loop["revindex0"] = .int(count - index - 1)
        loop["first"] = .bool(index == 0)
        loop["last"] = .bool(index == count - 1)
        loop["length"] = .int(count)
        loop["depth"] = .int(1)
        loop["depth0"] = .int(0)
        if index > 0 { loop["previtem"] = items[index - 1] }
        if index + 1 < count { loop["nextitem"] = items[index + 1] }
        loop["cycle"] = .function(JinjaFunction(name: "loop.cycle") { args, _ in
            guard !args.isEmpty else { throw ChatTemplateError.runtime("no items for cycling given") }
            return args[index % args.count]
        })
        return .object(loop)
    }

    // MARK: - Macros

    func callMacro(_ macro: JinjaMacro, _ args: [JinjaValue], _ kwargs: JinjaObject) throws -> JinjaValue {
        let definition = macro.definition
        guard args.count <= definition.parameters.count else {
            throw ChatTemplateError.runtime("macro '\(macro.name)' takes not more than \(definition.parameters.count) argument(s)")
        }
        guard macroDepth < Self.maxMacroDepth else {
            throw ChatTemplateError.runtime("maximum macro recursion depth exceeded in '\(macro.name)'")
        }
        macroDepth += 1
        defer { macroDepth -= 1 }
        // Macros see their arguments plus the template's top-level names (where they are defined).
        let frame = JinjaScope(parent: root)
        for (index, parameter) in definition.parameters.enumerated() {
            if index < args.count {
                frame.variables[parameter.name] = args[index]
            } else if let value = kwargs[parameter.name] {
                frame.variables[parameter.name] = value
            } else if let defaultExpr = parameter.defaultValue {
                frame.variables[parameter.name] = try evaluate(defaultExpr, frame)
            } else {
                frame.variables[parameter.name] = .undefined
            }
        }
        for key in kwargs.keys where !definition.parameters.contains(where: { $0.name == key }) {
            throw ChatTemplateError.runtime("macro '\(macro.name)' takes no keyword argument '\(key)'")
        }
        var out = ""
        _ = try execute(definition.body, scope: frame, into: &out)
        return .string(out)
    }
}
