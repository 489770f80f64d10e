/// Python methods that templates call on values: `content.split('</think>')`, `tool.items()`,
/// `message.content.startswith(...)`, `d.get(k, default)`. (The sandbox forbids mutating ones.)
extension JinjaInterpreter {
    /// nil when `name` is not a method of the value's type, so the caller falls back to attribute lookup.
    func callMethod(on value: JinjaValue, _ name: String, _ args: [JinjaValue], _ kwargs: JinjaObject) throws -> JinjaValue? {
        let call = JinjaCallArguments(name: name, args: args, kwargs: kwargs)
        switch value {
        case .string(let s): return try stringMethod(s, call)
        case .object(let object): return try dictMethod(object, call)
        case .array(let items): return try listMethod(items, call)
        default: return nil
        }
    }

    private func stringMethod(_ s: String, _ call: JinjaCallArguments) throws -> JinjaValue? {
        switch call.name {
        case "strip", "lstrip", "rstrip":
            let chars = try call.optionalString(0, "chars")
            return .string(PythonString.strip(s, chars: chars, left: call.name != "rstrip", right: call.name != "lstrip"))
        case "split", "rsplit":
            let maxSplit = try call.int(1, "maxsplit", default: -1)
            if call.name == "rsplit" && maxSplit >= 0 {
                throw ChatTemplateError.runtime("rsplit with maxsplit is not supported")
            }
            return .array(try PythonString.split(s, separator: try call.optionalString(0, "sep"), maxSplit: maxSplit)
                .map(JinjaValue.string))
        case "startswith", "endswith":
            let candidates: [JinjaValue]
            switch call.argument(0, "prefix") {
            case .array(let items)?: candidates = items
            case let other?: candidates = [other]
            case nil: throw ChatTemplateError.runtime("\(call.name)() takes at least 1 argument (0 given)")
            }
            for candidate in candidates {
                guard case .string(let affix) = candidate else {
                    throw ChatTemplateError.runtime("\(call.name) first arg must be str or a tuple of str, not \(candidate.pythonTypeName)")
                }
                if call.name == "startswith" ? PythonString.hasPrefix(s, affix) : PythonString.hasSuffix(s, affix) {
                    return .bool(true)
                }
            }
            return .bool(false)
        case "replace":
            let old = try call.string(0, "old"), new = try call.string(1, "new")
            return .string(PythonString.replace(s, old, new, count: try call.int(2, "count", default: -1)))
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "title": return .string(PythonString.title(s))
        case "capitalize": return .string(PythonString.capitalize(s))
        case "find", "index":
            let needle = try call.string(0, "sub")
            guard let byteOffset = PythonString.find(needle, in: s) else {
                if call.name == "index" { throw ChatTemplateError.runtime("substring not found") }
                return .int(-1)
            }
            return .int(String(decoding: Array(s.utf8)[..<byteOffset], as: UTF8.self).unicodeScalars.count)
        case "count": return .int(PythonString.count(s, try call.string(0, "sub")))
        case "join":
            let items = try iterate(call.argument(0, "iterable") ?? .undefined)
            let parts = try items.enumerated().map { index, item -> String in
                guard case .string(let part) = item else {
                    throw ChatTemplateError.runtime("sequence item \(index): expected str instance, \(item.pythonTypeName) found")
                }
                return part
            }
            return .string(parts.joined(separator: s))
        case "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper":
            return .bool(Self.classify(s, call.name))
        default:
            return nil
        }
    }

    private static func classify(_ s: String, _ name: String) -> Bool {
        let scalars = s.unicodeScalars
        guard !scalars.isEmpty else { return false }
        switch name {
        case "isdigit": return scalars.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit }
        case "isalpha": return scalars.allSatisfy { $0.properties.isAlphabetic }
        case "isalnum": return scalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil }
        case "isspace": return scalars.allSatisfy(PythonFormat.isWhitespace)
        case "islower":
            return scalars.contains { $0.properties.isCased } && !scalars.contains { $0.properties.isUppercase }
        default:
            return scalars.contains { $0.properties.isCased } && !scalars.contains { $0.properties.isLowercase }
        }
    }

    private func dictMethod(_ object: JinjaObject, _ call: JinjaCallArguments) throws -> JinjaValue? {
        switch call.name {
        case "items": return .array(object.pairs.map { .array([.string($0.key), $0.value]) })
        case "keys": return .array(object.keys.map(JinjaValue.string))
        case "values": return .array(object.values)
        case "get":
            guard case .string(let key)? = call.argument(0, "key") else { return call.argument(1, "default") ?? JinjaValue.none }
            return object[key] ?? call.argument(1, "default") ?? JinjaValue.none
        case "copy": return .object(object)
        default:
            // A dict key holding a callable (e.g. a function passed in the context) is still callable.
            return nil
        }
    }

    private func listMethod(_ items: [JinjaValue], _ call: JinjaCallArguments) throws -> JinjaValue? {
        switch call.name {
        case "count":
            let needle = call.argument(0, "value") ?? .undefined
            return .int(items.count { JinjaOperators.equals($0, needle) })
        case "index":
            let needle = call.argument(0, "value") ?? .undefined
            guard let index = items.firstIndex(where: { JinjaOperators.equals($0, needle) }) else {
                throw ChatTemplateError.runtime("\(needle.pythonRepr) is not in list")
            }
            return .int(index)
        case "copy": return .array(items)
        default: return nil
        }
    }
}

/// Positional-or-keyword argument access for methods, filters and globals.
struct JinjaCallArguments {
    let name: String
    let args: [JinjaValue]
    let kwargs: JinjaObject

    func argument(_ index: Int, _ keyword: String) -> JinjaValue? {
        index >= 0 && index < args.count ? args[index] : kwargs[keyword]
    }

    func string(_ index: Int, _ keyword: String) throws -> String {
        guard case .string(let s)? = argument(index, keyword) else {
            throw ChatTemplateError.runtime("\(name)(): argument '\(keyword)' must be str")
        }
        return s
    }

    func optionalString(_ index: Int, _ keyword: String) throws -> String? {
        switch argument(index, keyword) {
        case nil, .none?, .undefined?: return nil
        case .string(let s)?: return s
        case let other?: throw ChatTemplateError.runtime("\(name)(): argument '\(keyword)' must be str or None, not \(other.pythonTypeName)")
        }
    }

    func int(_ index: Int, _ keyword: String, default fallback: Int) throws -> Int {
        switch argument(index, keyword) {
        case nil, .none?: return fallback
        case .int(let i)?: return i
        case .bool(let b)?: return b ? 1 : 0
        case let other?: throw ChatTemplateError.runtime("\(name)(): argument '\(keyword)' must be int, not \(other.pythonTypeName)")
        }
    }

    func bool(_ index: Int, _ keyword: String, default fallback: Bool) -> Bool {
        argument(index, keyword)?.isTruthy ?? fallback
    }
}
