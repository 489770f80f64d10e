import Foundation
import Server
import Testing

/// Our Gemma turn template (for GGUFs that carry none) renders as Google's own does.
@Suite struct GemmaTemplateTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: [
        [("user", "Hello")],
        [("system", "Be brief."), ("user", "Hi there"), ("assistant", "Hello!"), ("user", "  What is 2+2?  ")],
        [("user", "one"), ("assistant", "two"), ("user", "three")],
    ])
    func matchesGoogleTemplate(messages: [(String, String)]) throws {
        let ours = try ChatTemplateRenderer.load(override: Self.repo.appendingPathComponent("templates/gemma3.jinja").path,
                                                 modelTemplate: nil, bosToken: "<bos>", eosToken: "<eos>")!
        let google = try ChatTemplateRenderer.load(override: Fixtures.path("chat-templates/gemma-3-270m-it.jinja"),
                                                   modelTemplate: nil, bosToken: "<bos>", eosToken: "<eos>")!
        for generation in [true, false] {
            let m = messages.map { (role: $0.0, content: $0.1) }
            #expect(try ours.render(messages: m, addGenerationPrompt: generation, continueFinalMessage: false)
                    == google.render(messages: m, addGenerationPrompt: generation, continueFinalMessage: false))
        }
    }
}
