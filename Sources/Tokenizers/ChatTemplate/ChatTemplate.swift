import Foundation

/// A Hugging Face chat template (a Jinja2 subset), parsed once and rendered the way transformers'
/// `apply_chat_template(..., tokenize=False)` does: `trim_blocks`, `lstrip_blocks`, no autoescape,
/// default (lenient) Undefined, HF's `tojson`, `raise_exception` and `strftime_now` globals.
public struct ChatTemplate: Sendable {
    let nodes: [JinjaNode]

    /// Parses `source`; throws `ChatTemplateError.syntax` (with a line number) for malformed templates.
    public init(source: String) throws {
        nodes = try JinjaParser.parse(source)
    }

    /// Renders with exactly the given variables (plus the default globals, which they may override).
    public func render(_ context: [String: JinjaValue]) throws -> String {
        try JinjaInterpreter(context: context).render(nodes)
    }

    /// Renders a conversation with the variables transformers passes: `messages`, `tools` (None when
    /// absent — so `tools is defined` is true), `documents` (None), `add_generation_prompt`,
    /// `bos_token`, `eos_token`, then `extra` (e.g. `enable_thinking`), which wins over all of them.
    /// Like `apply_chat_template`, None-valued message keys are dropped first, and a message's
    /// `reasoning_content` / `thinking` / `reasoning` (first present) is exposed under both
    /// `reasoning_content` and `thinking`.
    public func render(
        messages: [JinjaValue], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
        tools: [JinjaValue]? = nil, extra: [String: JinjaValue] = [:]
    ) throws -> String {
        var context: [String: JinjaValue] = [
            "messages": .array(messages.map(Self.prepareMessage)),
            "tools": tools.map(JinjaValue.array) ?? JinjaValue.none,
            "documents": JinjaValue.none,
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": bosToken.map(JinjaValue.string) ?? JinjaValue.none,
            "eos_token": eosToken.map(JinjaValue.string) ?? JinjaValue.none,
        ]
        context.merge(extra) { $1 }
        return try render(context)
    }

    /// A `strftime_now` global reading a fixed clock (for reproducible prompts and tests); pass it in
    /// `extra` / the context under the name `strftime_now`.
    public static func strftimeNow(fixedAt date: Date, timeZone: TimeZone = .current) -> JinjaValue {
        JinjaGlobals.strftimeNow(timeZone: timeZone) { date }
    }

    static func prepareMessage(_ message: JinjaValue) -> JinjaValue {
        guard case .object(var object) = message else { return message }
        for key in object.keys where object[key] == JinjaValue.none { object[key] = nil }
        if let reasoning = ["reasoning_content", "thinking", "reasoning"].lazy.compactMap({ object[$0] }).first {
            object["reasoning_content"] = reasoning
            object["thinking"] = reasoning
        }
        return .object(object)
    }
}
