/// Request fields that ask for output Shardline cannot constrain yet: structured outputs
/// (OpenAI's `response_format`, vLLM's `guided_*`) and tool calls. They used to be ignored, so a
/// client asking for JSON got free text with status 200; now the request is refused, naming
/// the field. The harmless spellings stay accepted: `response_format` of type "text", an empty
/// `tools` list, `tool_choice` "none".
struct UnsupportedFields: Decodable, Sendable {
    struct ResponseFormat: Decodable, Sendable { var type: String? }
    /// Any JSON value; only its presence matters.
    struct Present: Decodable, Sendable { init(from decoder: any Decoder) throws {} }
    /// `tool_choice`: "none", "auto", "required" or an object naming a function.
    struct ToolChoice: Decodable, Sendable {
        var mode: String?
        init(from decoder: any Decoder) throws { mode = try? decoder.singleValueContainer().decode(String.self) }
    }

    var response_format: ResponseFormat?
    var guided_json: Present?
    var guided_regex: Present?
    var guided_choice: Present?
    var guided_grammar: Present?
    var structured_outputs: Present?
    var tools: [Present]?
    var tool_choice: ToolChoice?

    func check() throws {
        if let type = response_format?.type, type != "text" {
            throw OpenAIError.badRequest("response_format '\(type)' is not supported yet; only 'text'", param: "response_format")
        }
        let guided: [(String, Present?)] = [("guided_json", guided_json), ("guided_regex", guided_regex), ("guided_choice", guided_choice),
                                            ("guided_grammar", guided_grammar), ("structured_outputs", structured_outputs)]
        if let (name, _) = guided.first(where: { $0.1 != nil }) {
            throw OpenAIError.badRequest("\(name) (structured output) is not supported yet", param: name)
        }
        if let tools, !tools.isEmpty, tool_choice?.mode != "none" {
            throw OpenAIError.badRequest("tools (function calling) are not supported yet; send no tools or tool_choice 'none'", param: "tools")
        }
    }
}
