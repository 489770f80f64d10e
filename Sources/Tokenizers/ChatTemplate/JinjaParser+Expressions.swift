/// Expression grammar, with jinja2's precedence (loosest first):
/// `a if c else b` → `or` → `and` → `not` → comparisons/`in` → `+ -` → `~` → `* / // %` → `**`
/// → unary `- +` → primary with postfix (`.x`, `[i]`, `(...)`) → filters `|f` and tests `is t`.
/// Note filters bind tighter than `+`: `x | trim + 'a'` is `(x | trim) + 'a'`.
extension JinjaParser {
    mutating func parseExpression() throws -> JinjaExpr {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting < Self.maxNesting else { throw error("expression nested too deeply") }
        var expr = try parseOr()
        while skipName("if") {
            let condition = try parseOr()
            let otherwise = skipName("else") ? try parseExpression() : nil
            expr = .conditional(then: expr, condition: condition, otherwise: otherwise)
        }
        return expr
    }

    /// Counts one more level of expression depth (left-associative chains nest the AST too).
    mutating func deeper() throws {
        nesting += 1
        guard nesting < Self.maxNesting else { throw error("expression nested too deeply") }
    }

    /// `a, b` without brackets is a tuple (used by `{% set x = a, b %}`).
    mutating func parseTupleOrExpression() throws -> JinjaExpr {
        let first = try parseExpression()
        guard isOp(",") else { return first }
        var items = [first]
        while skipOp(",") {
            if current.kind == .blockEnd || current.kind == .variableEnd { break }
            items.append(try parseExpression())
        }
        return .list(items)
    }

    mutating func parseOr() throws -> JinjaExpr {
        let savedNesting = nesting
        defer { nesting = savedNesting }
        var expr = try parseAnd()
        while skipName("or") { try deeper(); expr = .or(expr, try parseAnd()) }
        return expr
    }

    private mutating func parseAnd() throws -> JinjaExpr {
        let savedNesting = nesting
        defer { nesting = savedNesting }
        var expr = try parseNot()
        while skipName("and") { try deeper(); expr = .and(expr, try parseNot()) }
        return expr
    }

    private mutating func parseNot() throws -> JinjaExpr {
        if skipName("not") {
            nesting += 1
            defer { nesting -= 1 }
            guard nesting < Self.maxNesting else { throw error("expression nested too deeply") }
            return .unary("not", try parseNot())
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> JinjaExpr {
        let first = try parseMath1()
        var ops: [(op: String, rhs: JinjaExpr)] = []
        while true {
            if case .op(let op) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(op) {
                _ = advance()
                ops.append((op, try parseMath1()))
            } else if skipName("in") {
                ops.append(("in", try parseMath1()))
            } else if isName("not"), pos + 1 < tokens.count, tokens[pos + 1].kind == .name("in") {
                _ = advance(); _ = advance()
                ops.append(("not in", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? first : .compare(first, ops)
    }

    private mutating func parseMath1() throws -> JinjaExpr {
        let savedNesting = nesting
        defer { nesting = savedNesting }
        var expr = try parseConcat()
        while case .op(let op) = current.kind, op == "+" || op == "-" {
            _ = advance()
            try deeper()
            expr = .binary(op, expr, try parseConcat())
        }
        return expr
    }

    private mutating func parseConcat() throws -> JinjaExpr {
        let savedNesting = nesting
        defer { nesting = savedNesting }
        var expr = try parseMath2()
        while skipOp("~") { try deeper(); expr = .binary("~", expr, try parseMath2()) }
        return expr
    }

    private mutating func parseMath2() throws -> JinjaExpr {
        let savedNesting = nesting
        defer { nesting = savedNesting }
        var expr = try parsePow()
        while case .op(let op) = current.kind, ["*", "/", "//", "%"].contains(op) {
            _ = advance()
            try deeper()
            expr = .binary(op, expr, try parsePow())
        }
        return expr
    }

    private mutating func parsePow() throws -> JinjaExpr {
        let savedNesting = nesting
        defer { nesting = savedNesting }
        var expr = try parseUnary(withFilter: true)
        while skipOp("**") { try deeper(); expr = .binary("**", expr, try parseUnary(withFilter: true)) }
        return expr
    }

    private mutating func parseUnary(withFilter: Bool) throws -> JinjaExpr {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting < Self.maxNesting else { throw error("expression nested too deeply") }
        var expr: JinjaExpr
        if skipOp("-") {
            expr = .unary("-", try parseUnary(withFilter: false))
        } else if skipOp("+") {
            expr = .unary("+", try parseUnary(withFilter: false))
        } else {
            expr = try parsePrimary()
        }
        expr = try parsePostfix(expr)
        if withFilter { expr = try parseFilterExpr(expr) }
        return expr
    }

    private mutating func parsePrimary() throws -> JinjaExpr {
        let token = advance()
        switch token.kind {
        case .name(let name):
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(name)
            }
        case .string(var text):
            // Adjacent literals concatenate, as in Python.
            while case .string(let more) = current.kind { text += more; _ = advance() }
            return .literal(.string(text))
        case .integer(let i): return .literal(.int(i))
        case .float(let d): return .literal(.double(d))
        case .op("("):
            if skipOp(")") { return .list([]) }
            let first = try parseExpression()
            if skipOp(")") { return first }
            var items = [first]
            while skipOp(",") {
                if isOp(")") { break }
                items.append(try parseExpression())
            }
            try expectOp(")")
            return .list(items)
        case .op("["):
            var items: [JinjaExpr] = []
            while !isOp("]") {
                items.append(try parseExpression())
                if !skipOp(",") { break }
            }
            try expectOp("]")
            return .list(items)
        case .op("{"):
            var pairs: [(key: JinjaExpr, value: JinjaExpr)] = []
            while !isOp("}") {
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
                if !skipOp(",") { break }
            }
            try expectOp("}")
            return .dict(pairs)
        default:
            throw ChatTemplateError.syntax(message: "unexpected \(describe(token))", line: token.line)
        }
    }

    private mutating func parsePostfix(_ base: JinjaExpr) throws -> JinjaExpr {
        let savedNesting = nesting
        defer { nesting = savedNesting }
        var expr = base
        while true {
            try deeper()
            if skipOp(".") {
                let token = advance()
                switch token.kind {
                case .name(let name): expr = .attribute(expr, name)
                case .integer(let i): expr = .item(expr, .literal(.int(i)))
                default: throw ChatTemplateError.syntax(message: "expected a name after '.'", line: token.line)
                }
            } else if skipOp("[") {
                expr = try parseSubscript(expr)
            } else if isOp("(") {
                expr = .call(expr, try parseCallArguments())
            } else {
                return expr
            }
        }
    }

    private mutating func parseSubscript(_ base: JinjaExpr) throws -> JinjaExpr {
        var start: JinjaExpr?
        if !isOp(":") {
            let index = try parseExpression()
            if skipOp("]") { return .item(base, index) }
            start = index
        }
        try expectOp(":")
        let stop = isOp("]") || isOp(":") ? nil : try parseExpression()
        var step: JinjaExpr?
        if skipOp(":"), !isOp("]") { step = try parseExpression() }
        try expectOp("]")
        return .slice(base, start: start, stop: stop, step: step)
    }

    private mutating func parseFilterExpr(_ base: JinjaExpr) throws -> JinjaExpr {
        let savedNesting = nesting
        defer { nesting = savedNesting }
        var expr = base
        while true {
            try deeper()
            if skipOp("|") {
                let (name, args) = try parseFilterCall()
                expr = .filter(expr, name: name, args)
            } else if skipName("is") {
                let negated = skipName("not")
                let name = try expectName()
                var args = JinjaArguments()
                if isOp("(") {
                    args = try parseCallArguments()
                } else if startsBareTestArgument() {
                    args.positional = [try parsePostfix(try parsePrimary())]
                }
                expr = .test(expr, name: name, args, negated: negated)
            } else if isOp("(") {
                expr = .call(expr, try parseCallArguments())
            } else {
                return expr
            }
        }
    }

    /// jinja2 allows one argument without parentheses: `x is divisibleby 3`, `x is equalto 'a'`.
    private func startsBareTestArgument() -> Bool {
        switch current.kind {
        case .name(let n): return !["else", "or", "and", "if", "is", "not", "in"].contains(n)
        case .string, .integer, .float: return true
        case .op(let o): return o == "[" || o == "{"
        default: return false
        }
    }

    /// `name` or `name(args)` after `|` (also used by `{% filter %}` and `{% set x | f %}`).
    mutating func parseFilterCall() throws -> (String, JinjaArguments) {
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        let args = isOp("(") ? try parseCallArguments() : JinjaArguments()
        return (name, args)
    }

    mutating func parseCallArguments() throws -> JinjaArguments {
        try expectOp("(")
        var args = JinjaArguments()
        while !isOp(")") {
            if case .name(let name) = current.kind, pos + 1 < tokens.count, tokens[pos + 1].kind == .op("=") {
                _ = advance(); _ = advance()
                args.keyword.append((name, try parseExpression()))
            } else {
                if isOp("*") || isOp("**") { throw error("*args and **kwargs in calls are not supported") }
                guard args.keyword.isEmpty else { throw error("positional argument follows keyword argument") }
                args.positional.append(try parseExpression())
            }
            if !skipOp(",") { break }
        }
        try expectOp(")")
        return args
    }
}
