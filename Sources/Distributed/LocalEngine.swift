import Engine
import Foundation
import ModelFormats
import Models
import Tokenizers

/// Builds a ready engine on this machine from a model bundle: executor, core, front.
/// The one place the CLI and the server assemble the pieces.
public enum LocalEngine {
    public static func load(path: String, cache: CacheConfig = CacheConfig(), scheduler: SchedulerConfig = SchedulerConfig(),
                            log: (String) -> Void = { _ in }) throws -> LLMEngine {
        try make(bundle: try ModelBundle.load(path: path), cache: cache, scheduler: scheduler, log: log)
    }

    public static func make(bundle: ModelBundle, cache: CacheConfig, scheduler: SchedulerConfig,
                            log: (String) -> Void = { _ in }) throws(EngineError) -> LLMEngine {
        try make(model: bundle.model, tokenizer: bundle.tokenizer, stopTokenIds: bundle.stopTokenIds,
                 cache: cache, scheduler: scheduler, log: log)
    }

    public static func make(model: any CausalLanguageModel, tokenizer: any Tokenizer, stopTokenIds: Set<Int>? = nil,
                            cache: CacheConfig, scheduler: SchedulerConfig, log: (String) -> Void = { _ in }) throws(EngineError) -> LLMEngine {
        var scheduler = scheduler
        scheduler.blockSize = cache.blockSize
        let executor = try UniProcessExecutor(model: model, cache: cache, scheduler: scheduler, log: log)
        let core = try EngineCore(config: scheduler, executor: executor)
        var eos = Set(model.config.eosTokenIds)
        if let id = tokenizer.eosTokenId { eos.insert(id) }
        return LLMEngine(core: core, tokenizer: tokenizer, eosTokenIds: stopTokenIds ?? eos)
    }
}
