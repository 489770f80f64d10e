/// Every failure of parsing or rendering a chat template. Never a crash: bad templates and bad inputs
/// surface here with a one-line message.
public enum ChatTemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The template source does not parse (jinja2's `TemplateSyntaxError`).
    case syntax(message: String, line: Int)
    /// The template called `raise_exception(message)`; `message` is passed through verbatim.
    case raised(String)
    /// A runtime failure (jinja2's `UndefinedError`, Python `TypeError`, ...). `line` is 0 when unknown.
    case runtime(message: String, line: Int)

    public var description: String {
        switch self {
        case .syntax(let message, let line): return "template syntax error at line \(line): \(message)"
        case .raised(let message): return message
        case .runtime(let message, let line):
            return line > 0 ? "template error at line \(line): \(message)" : "template error: \(message)"
        }
    }

    /// The message without location prefix.
    public var message: String {
        switch self {
        case .syntax(let message, _), .raised(let message), .runtime(let message, _): return message
        }
    }

    static func runtime(_ message: String) -> ChatTemplateError { .runtime(message: message, line: 0) }

    /// Attaches a line number to a runtime error that does not have one yet.
    func located(at line: Int) -> ChatTemplateError {
        if case .runtime(let message, 0) = self { return .runtime(message: message, line: line) }
        return self
    }
}
