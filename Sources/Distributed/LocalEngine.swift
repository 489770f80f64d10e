import Engine
import Foundation
import ModelFormats
import Models
import Tokenizers

/// Builds a ready engine for a model directory on this machine: model, tokenizer, executor,
/// core. The one place the CLI and the server assemble the pieces.
public enum LocalEngine {
    public static func load(directory: String, cache: CacheConfig = CacheConfig(), scheduler: SchedulerConfig = SchedulerConfig(),
                            log: (String) -> Void = { _ in }) throws -> LLMEngine {
        let model = try ModelLoader.load(directory: directory)
        let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: directory))
        return try make(model: model, tokenizer: tokenizer, cache: cache, scheduler: scheduler, log: log)
    }

    public static func make(model: any CausalLanguageModel, tokenizer: any Tokenizer, cache: CacheConfig,
                            scheduler: SchedulerConfig, log: (String) -> Void = { _ in }) throws(EngineError) -> LLMEngine {
        var scheduler = scheduler
        scheduler.blockSize = cache.blockSize
        let executor = try UniProcessExecutor(model: model, cache: cache, scheduler: scheduler, log: log)
        let core = try EngineCore(config: scheduler, executor: executor)
        var eos = Set(model.config.eosTokenIds)
        if let id = tokenizer.eosTokenId { eos.insert(id) }
        return LLMEngine(core: core, tokenizer: tokenizer, eosTokenIds: eos)
    }
}
