import Foundation

/// A Hugging Face `tokenizer.json` byte-level BPE tokenizer (GPT-2, Llama 3, Qwen2 style).
///
/// Encoding: split out added tokens → normalize → pre-tokenize → BPE per piece → post-process.
/// Decoding: token strings → bytes (ByteLevel / byte fallback) → lossy UTF-8.
/// The struct is a cheap handle: all state lives in an immutable shared core, plus a
/// lock-protected word cache, so copies can be passed across tasks freely.
public struct BPETokenizer: Sendable {
    final class Core: Sendable {
        let model: BPEModel
        let added: AddedTokenMatcher
        let addedById: [Int: AddedToken]
        let addedByContent: [String: Int]
        let normalizer: Normalizer?
        let preTokenizer: PreTokenizer?
        let postProcessor: PostProcessor?
        let decoder: TokenDecoder
        let bosTokenId: Int?
        let eosTokenId: Int?
        let vocabSize: Int

        convenience init(tokenizerPath: String, configPath: String?) throws {
            try self.init(json: try JSONObject.load(path: tokenizerPath), configPath: configPath, bos: nil, eos: nil)
        }

        /// `bos`/`eos` are used when there is no tokenizer_config.json to name them.
        init(json: JSONObject, configPath: String?, bos givenBOS: Int?, eos givenEOS: Int?) throws {
            let tokenizerPath = json.path
            guard !json.isNull("model") else { throw TokenizerError.missingField(path: tokenizerPath, field: "model") }
            model = try BPEModel(json: try json.requiredObject("model"))
            let addedTokens = try AddedTokenMatcher.parse(json)
            added = AddedTokenMatcher(addedTokens)
            addedById = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            addedByContent = Dictionary(addedTokens.map { ($0.content, $0.id) }, uniquingKeysWith: { a, _ in a })
            normalizer = try Normalizer.parse(try json.object("normalizer"))
            preTokenizer = try PreTokenizer.parse(try json.object("pre_tokenizer"))
            postProcessor = try PostProcessor.parse(try json.object("post_processor"))
            decoder = try TokenDecoder.parse(try json.object("decoder"), modelByteFallback: model.byteFallback)
            vocabSize = max(model.maxId, addedTokens.map(\.id).max() ?? -1) + 1

            // BOS/EOS come from tokenizer_config.json, as a string or {"content": ...}.
            var bos: Int? = givenBOS, eos: Int? = givenEOS
            if let configPath, FileManager.default.fileExists(atPath: configPath) {
                let config = try JSONObject.load(path: configPath)
                let model = self.model, byContent = addedByContent
                func resolve(_ key: String) throws -> Int? {
                    if config.isNull(key) { return nil }
                    let content: String
                    if let s = config.dict[key] as? String {
                        content = s
                    } else if let o = try config.object(key), let s = try o.string("content") {
                        content = s
                    } else {
                        throw config.invalid(key, "expected a string or an object with \"content\"")
                    }
                    return byContent[content] ?? model.vocab[content]
                }
                bos = try resolve("bos_token")
                eos = try resolve("eos_token")
            }
            bosTokenId = bos
            eosTokenId = eos
        }
    }

    let core: Core
    let cache: WordCache

    /// Loads `tokenizer.json` and, if present, `tokenizer_config.json` from `directory`.
    public init(directory: URL) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw TokenizerError.fileNotFound(path: directory.path)
        }
        try self.init(
            tokenizerFile: directory.appendingPathComponent("tokenizer.json"),
            configFile: directory.appendingPathComponent("tokenizer_config.json"))
    }

    /// Loads an explicit `tokenizer.json`; `configFile` is optional and ignored when missing.
    public init(tokenizerFile: URL, configFile: URL? = nil) throws {
        core = try Core(tokenizerPath: tokenizerFile.path, configPath: configFile?.path)
        cache = WordCache()
    }

    /// A tokenizer described by a `tokenizer.json`-shaped dictionary built elsewhere (a GGUF's
    /// `tokenizer.ggml.*` keys); `source` names it in errors.
    public init(tokenizerJSON: [String: Any], source: String, bosTokenId: Int?, eosTokenId: Int?) throws {
        core = try Core(json: JSONObject(dict: tokenizerJSON, path: source, location: ""), configPath: nil,
                        bos: bosTokenId, eos: eosTokenId)
        cache = WordCache()
    }

    private init(core: Core, cache: WordCache) {
        self.core = core
        self.cache = cache
    }

    /// Same tokenizer with an empty word cache (for cold-start timing).
    func withFreshCache() -> BPETokenizer { BPETokenizer(core: core, cache: WordCache()) }

    public var bosTokenId: Int? { core.bosTokenId }
    public var eosTokenId: Int? { core.eosTokenId }
    /// Number of ids (model vocabulary plus added tokens), i.e. max id + 1.
    public var vocabSize: Int { core.vocabSize }

    /// The token's string as stored in the vocabulary (byte-level form, e.g. "Ġthe").
    public func tokenString(_ id: Int) -> String? {
        if let t = core.addedById[id] { return t.content }
        guard id >= 0, id < core.model.idToToken.count else { return nil }
        return core.model.idToToken[id]
    }

    /// Id of an added token or vocabulary entry with exactly this content.
    public func tokenId(_ token: String) -> Int? {
        core.addedByContent[token] ?? core.model.vocab[token]
    }

    /// True for added tokens marked `special` (dropped by `skipSpecialTokens`).
    public func isSpecialToken(_ id: Int) -> Bool { core.addedById[id]?.special ?? false }

    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        for segment in core.added.split(text) {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let raw):
                let normalized = core.normalizer?.apply(raw) ?? raw
                let pieces = core.preTokenizer?.apply([normalized]) ?? [normalized]
                let model = core.model
                for piece in pieces { ids += cache.ids(for: piece, compute: model.encode(word:)) }
            }
        }
        if addSpecialTokens, let post = core.postProcessor { ids = post.apply(ids) }
        return ids
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if let b = tokenBytes(id, skipSpecialTokens: skipSpecialTokens) { bytes += b }
        }
        return LossyUTF8.decode(bytes, final: true).text
    }

    /// Raw bytes one id contributes to decoded text; nil for unknown or skipped ids.
    public func tokenBytes(_ id: Int, skipSpecialTokens: Bool) -> [UInt8]? {
        if skipSpecialTokens && isSpecialToken(id) { return nil }
        guard let token = tokenString(id) else { return nil }
        return core.decoder.bytes(for: token)
    }
}

extension BPETokenizer: Tokenizer {}
