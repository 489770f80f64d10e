import Foundation
import Tokenizers

/// A model's Jinja chat template, rendered as transformers' `apply_chat_template` does.
public struct ChatTemplateRenderer: ChatPromptRenderer {
    public let template: ChatTemplate
    public let bosToken: String?
    public let eosToken: String?

    public init(source: String, bosToken: String?, eosToken: String?) throws {
        template = try ChatTemplate(source: source)
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    /// `--chat-template FILE` when given, else the model's own template; nil when neither exists.
    public static func load(override: String?, modelTemplate: String?, bosToken: String?, eosToken: String?) throws -> ChatTemplateRenderer? {
        let source: String
        if let override {
            guard let text = try? String(contentsOfFile: override, encoding: .utf8) else {
                throw ChatTemplateLoadError(message: "--chat-template \(override): cannot read the file")
            }
            source = text
        } else if let modelTemplate {
            source = modelTemplate
        } else {
            return nil
        }
        do {
            return try ChatTemplateRenderer(source: source, bosToken: bosToken, eosToken: eosToken)
        } catch {
            throw ChatTemplateLoadError(message: "\(override ?? "the model's chat template"): \(error)")
        }
    }

    public func render(messages: [(role: String, content: String)], addGenerationPrompt: Bool, continueFinalMessage: Bool) throws -> String {
        let values: [JinjaValue] = messages.map { .object(JinjaObject([("role", .string($0.role)), ("content", .string($0.content))])) }
        let text = try template.render(messages: values, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken)
        guard continueFinalMessage, let last = messages.last?.content, !last.isEmpty else { return text }
        // As transformers: end the prompt right after the final message's own text, so the
        // model continues it instead of starting a new turn.
        let needle = last.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let range = text.range(of: needle, options: .backwards) else {
            throw ChatTemplateLoadError(message: "continue_final_message: the final message was not found in the rendered chat")
        }
        return String(text[..<range.upperBound])
    }
}

public struct ChatTemplateLoadError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
