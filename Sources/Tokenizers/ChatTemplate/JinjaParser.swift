/// Statement-level parser: text, `{{ }}` outputs and `{% %}` tags into a `JinjaNode` tree.
/// Expressions are parsed in `JinjaParser+Expressions.swift`.
struct JinjaParser {
    var tokens: [JinjaToken]
    var pos = 0
    /// Bounds recursion so hostile templates get an error instead of a stack overflow.
    var nesting = 0
    private var loopDepth = 0

    static let maxNesting = 100

    static func parse(_ source: String) throws -> [JinjaNode] {
        var parser = JinjaParser(tokens: try JinjaLexer.tokenize(source))
        return try parser.parseTemplate()
    }

    init(tokens: [JinjaToken]) { self.tokens = tokens }

    // MARK: - Token cursor

    var current: JinjaToken { tokens[pos] }
    var line: Int { current.line }

    mutating func advance() -> JinjaToken {
        let token = tokens[pos]
        if pos < tokens.count - 1 { pos += 1 }
        return token
    }

    func isOp(_ op: String) -> Bool { current.kind == .op(op) }
    func isName(_ name: String) -> Bool { current.kind == .name(name) }

    mutating func skipOp(_ op: String) -> Bool {
        guard isOp(op) else { return false }
        _ = advance()
        return true
    }

    mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        _ = advance()
        return true
    }

    mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw error("expected '\(op)', got \(describe(current))") }
    }

    mutating func expectName() throws -> String {
        guard case .name(let name) = current.kind else { throw error("expected a name, got \(describe(current))") }
        _ = advance()
        return name
    }

    func error(_ message: String) -> ChatTemplateError { .syntax(message: message, line: line) }

    func describe(_ token: JinjaToken) -> String {
        switch token.kind {
        case .text: return "text"
        case .variableStart: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockStart: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string: return "a string"
        case .integer(let i): return "'\(i)'"
        case .float(let d): return "'\(d)'"
        case .op(let o): return "'\(o)'"
        case .eof: return "end of template"
        }
    }

    mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else { throw error("expected end of statement block, got \(describe(current))") }
        _ = advance()
    }

    // MARK: - Statements

    mutating func parseTemplate() throws -> [JinjaNode] {
        let (body, end) = try parseBody(until: [], opener: nil)
        if let end { throw ChatTemplateError.syntax(message: "encountered unknown tag '\(end.name)'", line: end.line) }
        return body
    }

    /// Parses nodes up to a `{% name %}` tag whose name is in `terminators` and returns that name,
    /// leaving the cursor after it (the caller parses the rest of the tag).
    mutating func parseBody(until terminators: Set<String>, opener: (name: String, line: Int)?)
        throws -> ([JinjaNode], (name: String, line: Int)?)
    {
        var nodes: [JinjaNode] = []
        while true {
            let token = advance()
            switch token.kind {
            case .text(let text): nodes.append(.text(text))
            case .variableStart:
                let expr = try parseExpression()
                guard current.kind == .variableEnd else { throw error("expected end of print statement, got \(describe(current))") }
                _ = advance()
                nodes.append(.output(expr, line: token.line))
            case .blockStart:
                let tagLine = line
                let name = try expectName()
                if terminators.contains(name) { return (nodes, (name, tagLine)) }
                if let node = try parseStatement(name, line: tagLine) {
                    nodes.append(node)
                } else {
                    guard let opener else { throw ChatTemplateError.syntax(message: "encountered unknown tag '\(name)'", line: tagLine) }
                    let expected = terminators.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw ChatTemplateError.syntax(
                        message: "encountered unknown tag '\(name)'; expected \(expected) to close '\(opener.name)' from line \(opener.line)",
                        line: tagLine)
                }
            case .eof:
                if let opener {
                    let expected = terminators.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw ChatTemplateError.syntax(
                        message: "unexpected end of template: '\(opener.name)' block opened at line \(opener.line) is never closed (expected \(expected))",
                        line: opener.line)
                }
                return (nodes, nil)
            default:
                throw ChatTemplateError.syntax(message: "unexpected \(describe(token))", line: token.line)
            }
        }
    }

    /// One `{% ... %}` statement (cursor is after its name); nil for an unknown tag name.
    private mutating func parseStatement(_ name: String, line tagLine: Int) throws -> JinjaNode? {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting < Self.maxNesting else { throw error("blocks nested too deeply") }
        switch name {
        case "if": return try parseIf(line: tagLine)
        case "for": return try parseFor(line: tagLine)
        case "set": return try parseSet(line: tagLine)
        case "macro": return try parseMacro(line: tagLine)
        case "filter":
            let (filterName, args) = try parseFilterCall()
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endfilter"], opener: ("filter", tagLine))
            try expectBlockEnd()
            return .filterBlock(name: filterName, args: args, body: body, line: tagLine)
        case "generation":
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endgeneration"], opener: ("generation", tagLine))
            try expectBlockEnd()
            return .group(body)
        case "break", "continue":
            guard loopDepth > 0 else { throw ChatTemplateError.syntax(message: "'\(name)' outside of a loop", line: tagLine) }
            try expectBlockEnd()
            return name == "break" ? .breakLoop(line: tagLine) : .continueLoop(line: tagLine)
        case "include", "extends", "import", "from", "block", "call", "with", "autoescape":
            throw ChatTemplateError.syntax(message: "unsupported tag '\(name)'", line: tagLine)
        default:
            return nil
        }
    }

    private mutating func parseIf(line tagLine: Int) throws -> JinjaNode {
        var branches: [(condition: JinjaExpr, body: [JinjaNode])] = []
        var condition = try parseExpression()
        while true {
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["elif", "else", "endif"], opener: ("if", tagLine))
            branches.append((condition, body))
            switch end?.name {
            case "elif":
                condition = try parseExpression()
            case "else":
                try expectBlockEnd()
                let (elseBody, _) = try parseBody(until: ["endif"], opener: ("if", tagLine))
                try expectBlockEnd()
                return .conditional(branches: branches, elseBody: elseBody, line: tagLine)
            default:
                try expectBlockEnd()
                return .conditional(branches: branches, elseBody: [], line: tagLine)
            }
        }
    }

    private mutating func parseFor(line tagLine: Int) throws -> JinjaNode {
        let targets = try parseTargetNames()
        guard skipName("in") else { throw error("expected 'in' in for loop, got \(describe(current))") }
        // `if` here belongs to the loop filter, not to a conditional expression.
        let iterable = try parseOr()
        var condition: JinjaExpr?
        if skipName("if") { condition = try parseExpression() }
        if skipName("recursive") { throw ChatTemplateError.syntax(message: "recursive loops are not supported", line: tagLine) }
        try expectBlockEnd()
        loopDepth += 1
        let (body, end) = try parseBody(until: ["else", "endfor"], opener: ("for", tagLine))
        loopDepth -= 1
        var elseBody: [JinjaNode] = []
        try expectBlockEnd()
        if end?.name == "else" {
            (elseBody, _) = try parseBody(until: ["endfor"], opener: ("for", tagLine))
            try expectBlockEnd()
        }
        return .forLoop(JinjaForLoop(targets: targets, iterable: iterable, condition: condition,
                                     body: body, elseBody: elseBody, line: tagLine))
    }

    /// `a`, `a, b` or `(a, b)`.
    private mutating func parseTargetNames() throws -> [String] {
        let parenthesized = skipOp("(")
        var names = [try expectName()]
        while skipOp(",") {
            if parenthesized && isOp(")") { break }
            guard case .name = current.kind else { break }
            names.append(try expectName())
        }
        if parenthesized { try expectOp(")") }
        return names
    }

    private mutating func parseSet(line tagLine: Int) throws -> JinjaNode {
        let target: JinjaSetTarget
        let first = try expectName()
        if skipOp(".") {
            target = .attribute(object: first, attribute: try expectName())
        } else {
            var names = [first]
            while skipOp(",") { names.append(try expectName()) }
            target = .names(names)
        }
        if skipOp("=") {
            let value = try parseTupleOrExpression()
            try expectBlockEnd()
            return .set(target, value, line: tagLine)
        }
        var filters: [(name: String, args: JinjaArguments)] = []
        while skipOp("|") { filters.append(try parseFilterCall()) }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endset"], opener: ("set", tagLine))
        try expectBlockEnd()
        return .setBlock(target, body: body, filters: filters, line: tagLine)
    }

    private mutating func parseMacro(line tagLine: Int) throws -> JinjaNode {
        let name = try expectName()
        var parameters: [(name: String, defaultValue: JinjaExpr?)] = []
        try expectOp("(")
        while !isOp(")") {
            let param = try expectName()
            var defaultValue: JinjaExpr?
            if skipOp("=") { defaultValue = try parseExpression() }
            else if parameters.contains(where: { $0.defaultValue != nil }) {
                throw error("non-default argument follows default argument")
            }
            parameters.append((param, defaultValue))
            if !skipOp(",") { break }
        }
        try expectOp(")")
        try expectBlockEnd()
        let savedLoopDepth = loopDepth
        loopDepth = 0
        let (body, _) = try parseBody(until: ["endmacro"], opener: ("macro", tagLine))
        loopDepth = savedLoopDepth
        try expectBlockEnd()
        return .macro(MacroDefinition(name: name, parameters: parameters, body: body, line: tagLine))
    }
}
