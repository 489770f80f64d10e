import Foundation
import Testing
@testable import Tokenizers

/// Unit tests for the Jinja interpreter behind `ChatTemplate`: syntax errors carry line numbers,
/// hostile templates fail cleanly, and the HF environment's whitespace and value semantics hold.
struct ChatTemplateTests {
    private func render(_ source: String, _ context: [String: JinjaValue] = [:]) throws -> String {
        try ChatTemplate(source: source).render(context)
    }

    private func syntaxLine(_ source: String) -> Int? {
        do {
            _ = try ChatTemplate(source: source)
            return nil
        } catch let error as ChatTemplateError {
            if case .syntax(_, let line) = error { return line }
            return nil
        } catch {
            return nil
        }
    }

    // MARK: Syntax errors

    @Test func unclosedBlockReportsOpeningLine() throws {
        let source = "line 1\n{% for m in messages %}\n{{ m }}\n{% if m %}\nx\n{% endfor %}"
        #expect(throws: ChatTemplateError.self) { _ = try ChatTemplate(source: source) }
        #expect(syntaxLine("a\nb\n{% if x %}\nno end") == 3)
        #expect(syntaxLine("{% for x in y %}\n{% endif %}") == 2)
        let error = #expect(throws: ChatTemplateError.self) { _ = try ChatTemplate(source: "\n\n{% if x %}") }
        #expect(error?.description.contains("line 3") == true)
        #expect(error?.description.contains("'if'") == true)
    }

    @Test func malformedTagsAreSyntaxErrors() {
        #expect(syntaxLine("{{ x ") == 1)
        #expect(syntaxLine("ok\n{{ 'unterminated }}") == 2)
        #expect(syntaxLine("{# never closed") == 1)
        #expect(syntaxLine("{% endif %}") == 1)
        #expect(syntaxLine("{% frobnicate %}") == 1)
        #expect(syntaxLine("\n{{ 1 + }}") == 2)
        #expect(syntaxLine("{{ a b }}") == 1)
        #expect(syntaxLine("{% set %}") == 1)
        #expect(syntaxLine("{{ x | }}") == 1)
        #expect(syntaxLine("{% break %}") == 1)
        #expect(syntaxLine("{{ $ }}") == 1)
        #expect(syntaxLine("{% include 'x.jinja' %}") == 1)
    }

    @Test func hostileTemplatesFailWithoutCrashing() throws {
        #expect(throws: ChatTemplateError.self) { _ = try ChatTemplate(source: "{{ " + String(repeating: "(", count: 5000) + "1 }}") }
        #expect(throws: ChatTemplateError.self) { _ = try ChatTemplate(source: "{{ 1" + String(repeating: " + 1", count: 5000) + " }}") }
        #expect(throws: ChatTemplateError.self) { _ = try ChatTemplate(source: "{{ " + String(repeating: "not ", count: 5000) + "x }}") }
        #expect(throws: ChatTemplateError.self) { _ = try ChatTemplate(source: String(repeating: "{% if x %}", count: 5000)) }
        #expect(throws: ChatTemplateError.self) { _ = try render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}") }
        #expect(throws: ChatTemplateError.self) { _ = try render("{{ 'x' * 10 ** 12 }}") }
        #expect(throws: ChatTemplateError.self) { _ = try render("{{ 9223372036854775807 + 1 }}") }
        #expect(throws: ChatTemplateError.self) { _ = try render("{{ 2 ** 100 }}") }
        #expect(throws: ChatTemplateError.self) { _ = try render("{{ range(10 ** 9) | length }}") }
        #expect(try render("{{ range(-9223372036854775807, 9223372036854775807, 9223372036854775807) | length }}") == "2")
        #expect(throws: ChatTemplateError.self) { _ = try render("{{ 'ab' * 9223372036854775807 }}") }
        #expect(throws: ChatTemplateError.self) { _ = try render("{{ [1, 2] * 4611686018427387904 }}") }
        #expect(try render("{{ (-9223372036854775807 - 1) is divisibleby(-1) }}") == "True")
        #expect(try render("{{ 'a\\nb' | indent(999999999999) | length }}") == "1027")
        #expect(throws: ChatTemplateError.self) { _ = try render("{{ 1 // 0 }}{{ 1 % 0 }}") }
        #expect(throws: ChatTemplateError.self) { _ = try render("{{ [1][::0] }}") }
        #expect(try render("{{ [1, 2][-9223372036854775807:9223372036854775807:9223372036854775807] }}") == "[1]")
        #expect(syntaxLine("{{ 99999999999999999999999 }}") == 1)
    }

    // MARK: Semantics

    @Test func raiseExceptionPassesMessageThrough() {
        let error = #expect(throws: ChatTemplateError.self) {
            _ = try render("a\n{{ raise_exception('Roles must alternate: ' ~ n) }}", ["n": 3])
        }
        #expect(error == .raised("Roles must alternate: 3"))
        #expect(error?.description == "Roles must alternate: 3")
    }

    @Test func runtimeErrorsCarryLines() {
        let error = #expect(throws: ChatTemplateError.self) { _ = try render("a\n\n{{ missing.attr }}") }
        #expect(error == .runtime(message: "'missing' is undefined", line: 3))
    }

    @Test func loopVariables() throws {
        let out = try render(
            "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}",
            ["xs": ["a", "b"]])
        #expect(out == "10TrueFalse2|21FalseTrue2|")
        let filtered = try render("{% for x in xs if x != 'b' %}{{ x }}{{ loop.index0 }}{{ loop.last }}{% endfor %}",
                                  ["xs": ["a", "b", "c"]])
        #expect(filtered == "a0Falsec1True")
    }

    @Test func trimAndLstripBlocks() throws {
        #expect(try render("  {% if true %}\n  x\n  {% endif %}\ny") == "  x\ny")
        #expect(try render("{# c #}\nA\n  {# c #}\nB") == "A\nB")
        #expect(try render("{{ 'v' }}\nw") == "v\nw")  // no trim after }}
        #expect(try render("  {%+ if true %}x{% endif %}") == "  x")
        #expect(try render("a\n") == "a")  // keep_trailing_newline=False
        #expect(try render("a\n\n") == "a\n")
        #expect(try render("a\r\nb") == "a\nb")
    }

    @Test func whitespaceControl() throws {
        #expect(try render("a  \n {%- if true -%} \n b \n {%- endif -%}\n c") == "abc")
        #expect(try render("x {{- 'y' -}} z") == "xyz")
        #expect(try render("x\n{#- c -#}\ny") == "xy")
        #expect(try render("{{ {'a': {'b': 1}} }}") == "{'a': {'b': 1}}")
        #expect(try render("{{ '}}' ~ \"%}\" }}") == "}}%}")
    }

    @Test func pythonValueFormatting() throws {
        let value: JinjaValue = ["s": "it's", "t": true, "n": nil, "f": 72.0, "l": [1, "a\u{3000}"], "e": 1e-5]
        #expect(value.pythonRepr == #"{'s': "it's", 't': True, 'n': None, 'f': 72.0, 'l': [1, 'a\u3000'], 'e': 1e-05}"#)
        #expect(try value.pythonJSON() == #"{"s": "it's", "t": true, "n": null, "f": 72.0, "l": [1, "a　"], "e": 1e-05}"#)
        let nested: JinjaValue = [1, ["k": "v"]]
        #expect(try nested.pythonJSON(indent: "  ") == "[\n  1,\n  {\n    \"k\": \"v\"\n  }\n]")
        #expect(PythonFormat.floatRepr(1e16) == "1e+16")
        #expect(PythonFormat.floatRepr(123456789012345.6) == "123456789012345.6")
        #expect(PythonFormat.floatRepr(-0.5) == "-0.5")
    }

    @Test func orderedJSONInput() throws {
        let value = try JinjaValue(jsonString: #"{"z": 1, "a": 2.0, "m": [true, null, "\u00e9\ud83d\ude00"]}"#)
        guard case .object(let object) = value else { Issue.record("not an object"); return }
        #expect(object.keys == ["z", "a", "m"])
        #expect(object["a"] == .double(2.0))
        #expect(object["z"] == .int(1))
        let m: JinjaValue = .array([.bool(true), JinjaValue.none, .string("é😀")])
        #expect(object["m"] == m)
        #expect(throws: ChatTemplateError.self) { _ = try JinjaValue(jsonString: "{\"a\": }") }
        #expect(throws: ChatTemplateError.self) { _ = try JinjaValue(jsonString: String(repeating: "[", count: 10_000)) }

        let data = Data(#"{"b": true, "a": 1, "c": 1.5, "d": [null]}"#.utf8)
        let converted = JinjaValue(json: try JSONSerialization.jsonObject(with: data))
        let expected: JinjaValue = ["a": 1, "b": true, "c": 1.5, "d": [nil]]
        #expect(converted == expected)
    }

    @Test func chatConvenienceMatchesTransformersContext() throws {
        let template = try ChatTemplate(source:
            "{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }}{{ m | length }};{% endfor %}"
            + "{{ tools is defined }}{{ tools is none }}{{ documents }}{{ enable_thinking }}{% if add_generation_prompt %}>{% endif %}")
        let out = try template.render(
            messages: [["role": "user", "content": "hi", "name": nil]], addGenerationPrompt: true,
            bosToken: "<s>", eosToken: nil, extra: ["enable_thinking": false])
        #expect(out == "<s>user:hi2;TrueTrueNoneFalse>")
        let withTools = try ChatTemplate(source: "{{ tools | length }}").render(
            messages: [], addGenerationPrompt: false, bosToken: nil, eosToken: nil, tools: [["type": "function"]])
        #expect(withTools == "1")
    }

    @Test func frozenStrftime() throws {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour) = (2026, 11, 23, 12)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let now = ChatTemplate.strftimeNow(fixedAt: calendar.date(from: components)!, timeZone: calendar.timeZone)
        let out = try render("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%d %B %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M %a %-d %j') }}",
                             ["strftime_now": now])
        #expect(out == "23 Nov 2026|23 November 2026|2026-11-23 12:00 Mon 23 327")
    }

    @Test func concurrentRendering() async throws {
        let template = try ChatTemplate(source: "{% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}")
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<16 {
                group.addTask { try template.render(["xs": .array((0...i).map { .int($0) })]) }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        let expected: [String] = (0..<16).map { (n: Int) -> String in String(n * (n + 1) / 2) }
        #expect(Set(results) == Set(expected))
    }
}
