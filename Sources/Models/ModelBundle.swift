import Compute
import Foundation
import ModelFormats
import Tokenizers

/// Everything a served model comes with: the network, its tokenizer, the ids that end a
/// generation, and its chat template. From a Hugging Face directory or a single GGUF file.
public struct ModelBundle: Sendable {
    public let model: any CausalLanguageModel
    public let tokenizer: any Tokenizer
    public let stopTokenIds: Set<Int>
    /// Jinja source, when the model ships one.
    public let chatTemplate: String?
    public let bosToken: String?
    public let eosToken: String?

    public var config: ModelConfig { model.config }

    /// `path` is a model directory (config.json, safetensors, tokenizer.json) or a `.gguf` file.
    /// `shard`, given the model's config, says which part this device holds (the whole by default).
    /// `format`: how a safetensors model's projections are held (`--dtype`, `--quantization`).
    public static func load(path: String, shard: ((ModelConfig) throws -> ShardPlan)? = nil, format: WeightFormat = .float32) throws -> ModelBundle {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelFormatError.missingFile(path: path)
        }
        if isDirectory.boolValue { return try loadDirectory(path, shard: shard, format: format) }
        try requireNative(format, gguf: path)
        return try loadGGUF(path, shard: shard)
    }

    /// Only the network (a worker needs no tokenizer).
    public static func loadModel(path: String, shard: ((ModelConfig) throws -> ShardPlan)? = nil, format: WeightFormat = .float32) throws -> any CausalLanguageModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelFormatError.missingFile(path: path)
        }
        if isDirectory.boolValue { return try ModelLoader.load(directory: path, shard: shard, format: format) }
        try requireNative(format, gguf: path)
        let file = try GGUFFile(path: path)
        let config = try ModelConfig(gguf: file)
        return try ModelLoader.load(gguf: file, config: config, plan: try shard?(config))
    }

    /// Only the model's config (to plan shards before loading any weights).
    public static func config(path: String) throws -> ModelConfig {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelFormatError.missingFile(path: path)
        }
        return isDirectory.boolValue ? try ModelConfig.load(directory: path) : try ModelConfig(gguf: try GGUFFile(path: path))
    }

    /// A GGUF's weights are already in their file's formats; converting them again is refused.
    static func requireNative(_ format: WeightFormat, gguf path: String) throws {
        guard format == .float32 else {
            throw ModelFormatError.badConfig(path: path, reason: "--dtype/--quantization \(format.rawValue) applies to safetensors models; a GGUF file keeps the quantization it was written with")
        }
    }

    static func loadDirectory(_ directory: String, shard: ((ModelConfig) throws -> ShardPlan)?, format: WeightFormat) throws -> ModelBundle {
        let model = try ModelLoader.load(directory: directory, shard: shard, format: format)
        let tokenizer = try TokenizerLoader.load(directory: directory)
        let dir = URL(fileURLWithPath: directory)
        let config = (try? Data(contentsOf: dir.appendingPathComponent("tokenizer_config.json")))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        func special(_ key: String) -> String? {
            (config[key] as? String) ?? ((config[key] as? [String: Any])?["content"] as? String)
        }
        let template = (try? String(contentsOf: dir.appendingPathComponent("chat_template.jinja"), encoding: .utf8))
            ?? (config["chat_template"] as? String)
        return ModelBundle(
            model: model, tokenizer: tokenizer,
            stopTokenIds: TokenizerLoader.stopTokenIds(config: model.config, tokenizer: tokenizer, directory: directory),
            chatTemplate: template, bosToken: special("bos_token"), eosToken: special("eos_token"))
    }

    static func loadGGUF(_ path: String, shard: ((ModelConfig) throws -> ShardPlan)?) throws -> ModelBundle {
        let file = try GGUFFile(path: path)
        let config = try ModelConfig(gguf: file)
        let tokenizer = try TokenizerLoader.load(gguf: file)
        let model = try ModelLoader.load(gguf: file, config: config, plan: try shard?(config))
        let data = try file.tokenizerData()
        return ModelBundle(
            model: model, tokenizer: tokenizer,
            stopTokenIds: TokenizerLoader.stopTokenIds(config: config, tokenizer: tokenizer),
            chatTemplate: data.chatTemplate,
            bosToken: tokenizer.bosTokenId.flatMap(tokenizer.tokenString),
            eosToken: tokenizer.eosTokenId.flatMap(tokenizer.tokenString))
    }
}
