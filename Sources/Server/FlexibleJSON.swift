/// OpenAI fields that take more than one JSON shape.

/// `prompt`: a string, a list of strings, a list of token ids, or a list of lists of ids.
enum PromptInput: Decodable, Sendable {
    case texts([String])
    case tokens([[Int]])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .texts([s]); return }
        if let ss = try? c.decode([String].self) { self = .texts(ss); return }
        if let ids = try? c.decode([Int].self) { self = .tokens([ids]); return }
        if let lists = try? c.decode([[Int]].self) { self = .tokens(lists); return }
        throw DecodingError.typeMismatch(PromptInput.self, .init(codingPath: decoder.codingPath,
            debugDescription: "prompt must be a string, a list of strings, a list of token ids or a list of lists of token ids"))
    }
}

/// `stop`: a string or a list of strings.
struct StopStrings: Decodable, Sendable {
    var values: [String]

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { values = []; return }
        if let s = try? c.decode(String.self) { values = [s]; return }
        values = try c.decode([String].self)
    }
}

struct StreamOptions: Decodable, Sendable {
    var include_usage: Bool?
    var continuous_usage_stats: Bool?
}
