import Foundation
import Testing
@testable import Tokenizers

/// The 104 golden renderings in `shared/fixtures/chat-templates/cases.json`, produced by transformers'
/// own renderer (jinja2 3.1.6): every `expected` must match byte for byte and every `expected_error`
/// must be raised with the same message.
struct ChatTemplateFixtureTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let index: Int
        let name: String
        var testDescription: String { name }
    }

    static let directory: URL = URL(fileURLWithPath: #filePath)
        .resolvingSymlinksInPath()      // the file may be symlinked into a scratch package
        .deletingLastPathComponent()    // TokenizersTests
        .deletingLastPathComponent()    // Tests
        .deletingLastPathComponent()    // repo root
        .appendingPathComponent("../shared/fixtures/chat-templates")
        .standardizedFileURL

    /// Parsed with the order-preserving reader: `tojson` and `| string` expose key order.
    static let document: Result<[JinjaValue], ChatTemplateError> = {
        do {
            let data = try Data(contentsOf: directory.appendingPathComponent("cases.json"))
            guard case .array(let cases) = try JinjaValue(jsonData: data) else { return .failure(.runtime("cases.json is not a list")) }
            return .success(cases)
        } catch let error as ChatTemplateError {
            return .failure(error)
        } catch {
            return .failure(.runtime("cannot read cases.json: \(error)"))
        }
    }()

    static let cases: [Case] = {
        guard case .success(let cases) = document else { return [] }
        return cases.enumerated().map { index, value in
            guard case .object(let c) = value else { return Case(index: index, name: "#\(index)") }
            return Case(index: index, name: "\(c["template"]?.pythonString ?? "?")/\(c["name"]?.pythonString ?? "?")")
        }
    }()

    /// HF's fixture generator froze `datetime.now()` at 2026-11-23 12:00:00 (naive local time).
    static let frozenNow: JinjaValue = {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour) = (2026, 11, 23, 12)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return ChatTemplate.strftimeNow(fixedAt: calendar.date(from: components)!, timeZone: calendar.timeZone)
    }()

    @Test func allCasesLoad() throws {
        let cases = try Self.document.get()
        #expect(cases.count == 104)
        #expect(Self.cases.filter { $0.name.contains("/error_") }.count == 12)
    }

    @Test(arguments: cases)
    func rendersLikeTransformers(_ testCase: Case) throws {
        guard case .object(let c) = try Self.document.get()[testCase.index] else {
            Issue.record("case \(testCase.index) is not an object")
            return
        }
        let templateName = try #require(c["template"]).pythonString
        let source = try String(contentsOf: Self.directory.appendingPathComponent(templateName), encoding: .utf8)
        let template = try ChatTemplate(source: source)
        guard case .array(let messages)? = c["messages"] else {
            Issue.record("case has no messages")
            return
        }
        var tools: [JinjaValue]?
        if case .array(let list)? = c["tools"] { tools = list }
        var extra: [String: JinjaValue] = ["strftime_now": Self.frozenNow]
        if case .object(let kwargs)? = c["kwargs"] {
            for (key, value) in kwargs.pairs { extra[key] = value }
        }
        func optionalString(_ key: String) -> String? {
            if case .string(let s)? = c[key] { return s }
            return nil
        }
        let render = {
            try template.render(
                messages: messages, addGenerationPrompt: c["add_generation_prompt"]?.isTruthy ?? false,
                bosToken: optionalString("bos_token"), eosToken: optionalString("eos_token"),
                tools: tools, extra: extra)
        }
        if let expectedError = optionalString("expected_error") {
            let error = #expect(throws: ChatTemplateError.self) { _ = try render() }
            #expect(error == .raised(expectedError))
        } else {
            let expected = try #require(optionalString("expected"))
            let output = try render()
            #expect(output == expected)
            // Byte-for-byte (Swift's == on String uses canonical equivalence).
            #expect(Array(output.utf8) == Array(expected.utf8))
        }
    }
}
