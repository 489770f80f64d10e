/// llama.cpp token types (`tokenizer.ggml.token_type`).
public enum GGUFTokenType: Int32, Sendable, CaseIterable {
    case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

/// The tokenizer a GGUF file embeds (`tokenizer.ggml.*`, `tokenizer.chat_template`), exposed as
/// data; building a tokenizer from it is the Tokenizers module's job.
///
/// `model` is "llama" for SentencePiece-style vocabularies (tokens + scores, `▁` for spaces,
/// `<0xNN>` byte tokens) or "gpt2" for byte-level BPE (tokens + merges); llama.cpp also knows
/// "bert", "t5", "rwkv", "plamo2" and "none". Special-token ids outside the vocabulary are dropped
/// to nil, as llama.cpp ignores them.
public struct GGUFTokenizerData: Sendable, Equatable {
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer regex family for BPE ("llama-bpe", "qwen2", "default", …).
    public var pre: String?
    public var tokens: [String]
    /// SentencePiece scores, one per token (absent for most BPE vocabularies).
    public var scores: [Float]?
    /// Raw `GGUFTokenType` values, one per token.
    public var tokenTypes: [Int32]?
    /// BPE merges, "left right" per entry, highest priority first.
    public var merges: [String]?
    /// `tokenizer.ggml.added_tokens`, when the file lists them separately.
    public var addedTokens: [String]?
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var unknownTokenId: Int?
    public var paddingTokenId: Int?
    public var separatorTokenId: Int?
    public var eotTokenId: Int?
    public var eomTokenId: Int?
    public var addBosToken: Bool?
    public var addEosToken: Bool?
    public var addSpacePrefix: Bool?
    /// `tokenizer.chat_template` (Jinja), nil when the file has none.
    public var chatTemplate: String?
    /// Named templates, `tokenizer.chat_template.<name>` (e.g. "tool_use").
    public var namedChatTemplates: [String: String]

    public var isSentencePiece: Bool { model == "llama" }
    public var isByteLevelBPE: Bool { model == "gpt2" }

    /// Token type of `id`, nil when the file has no types or the value is unknown.
    public func tokenType(_ id: Int) -> GGUFTokenType? {
        guard let tokenTypes, tokenTypes.indices.contains(id) else { return nil }
        return GGUFTokenType(rawValue: tokenTypes[id])
    }

    public init(gguf: GGUFFile) throws {
        let m = gguf.metadata
        let path = gguf.path
        model = try m.requiredString("tokenizer.ggml.model")
        pre = try m.string("tokenizer.ggml.pre")
        guard let tokens = try m.stringArray("tokenizer.ggml.tokens") else {
            throw GGUFError.missingKey(path: path, key: "tokenizer.ggml.tokens")
        }
        self.tokens = tokens
        scores = try m.floatArray("tokenizer.ggml.scores")
        if let types = try m.intArray("tokenizer.ggml.token_type") {
            tokenTypes = types.map { Int32(truncatingIfNeeded: $0) }
        }
        for (key, count) in [("tokenizer.ggml.scores", scores?.count), ("tokenizer.ggml.token_type", tokenTypes?.count)] {
            if let count, count != tokens.count {
                throw GGUFError.badMetadata(path: path, key: key, reason: "has \(count) entries for \(tokens.count) tokens")
            }
        }
        merges = try m.stringArray("tokenizer.ggml.merges")
        addedTokens = try m.stringArray("tokenizer.ggml.added_tokens")
        /// Out of range: dropped, as llama.cpp drops it (files in the wild carry padding ids one
        /// past the vocabulary), except BOS and EOS, whose loss would silently change every
        /// prompt or never stop a generation.
        func id(_ key: String, required: Bool = false) throws -> Int? {
            guard let v = try m.int("tokenizer.ggml.\(key)") else { return nil }
            if tokens.indices.contains(v) { return v }
            guard !required else {
                throw GGUFError.badMetadata(path: path, key: "tokenizer.ggml.\(key)", reason: "\(v) is outside the \(tokens.count)-token vocabulary")
            }
            return nil
        }
        bosTokenId = try id("bos_token_id", required: true)
        eosTokenId = try id("eos_token_id", required: true)
        unknownTokenId = try id("unknown_token_id")
        paddingTokenId = try id("padding_token_id")
        separatorTokenId = try id("seperator_token_id") ?? id("separator_token_id")
        eotTokenId = try id("eot_token_id")
        eomTokenId = try id("eom_token_id")
        addBosToken = try m.bool("tokenizer.ggml.add_bos_token")
        addEosToken = try m.bool("tokenizer.ggml.add_eos_token")
        addSpacePrefix = try m.bool("tokenizer.ggml.add_space_prefix")
        chatTemplate = try m.string("tokenizer.chat_template")
        var named: [String: String] = [:]
        let prefix = "tokenizer.chat_template."
        for key in m.keys where key.hasPrefix(prefix) {
            named[String(key.dropFirst(prefix.count))] = try m.string(key)
        }
        namedChatTemplates = named
    }
}

extension GGUFFile {
    /// The embedded tokenizer data (throws `GGUFError.missingKey` when the file has none).
    public func tokenizerData() throws -> GGUFTokenizerData { try GGUFTokenizerData(gguf: self) }
}
