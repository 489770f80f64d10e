import Engine
import Compute
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

    /// Loads the model on one device, or cut over tp × pp worker processes (this one rank 0).
    /// Returns the engine and rank 0's bundle (tokenizer, chat template; its model is rank 0's shard).
    /// `traceFile` records a timeline per device (also on one device, through the worker path).
    /// `replicas`: the data-parallel replicas launched on this machine, this one among them; each
    /// device's default memory and cores are its share of the machine's among all of them.
    public static func launch(path: String, cache: CacheConfig, scheduler: SchedulerConfig, parallel: ParallelConfig = ParallelConfig(),
                              traceFile: String? = nil, format: WeightFormat = .float32, replicas: Int = 1,
                              log: (String) -> Void = { _ in }) throws -> (LLMEngine, ModelBundle) {
        guard parallel.worldSize > 1 || traceFile != nil else {
            let bundle = try ModelBundle.load(path: path, format: format)
            let cache = MultiProcessExecutor.deviceShare(cache, localDevices: replicas)
            return (try make(bundle: bundle, cache: cache, scheduler: scheduler, log: log), bundle)
        }
        var scheduler = scheduler
        scheduler.blockSize = cache.blockSize
        scheduler.pipelineDepth = parallel.pipelineParallelSize
        nonisolated(unsafe) var bundle: ModelBundle?
        let loadRankZero = { (plan: (ModelConfig) throws -> ShardPlan) throws -> any CausalLanguageModel in
            let loaded = try withoutActuallyEscaping(plan) { try ModelBundle.load(path: path, shard: $0, format: format) }
            bundle = loaded
            return loaded.model
        }
        let executor: MultiProcessExecutor
        if let mpi = MpiCommunicator.launch, mpi.size > 1 || parallel.worldSize > 1 {
            guard replicas == 1 else { throw EngineError.configuration("--data-parallel-size > 1 under mpirun is not supported yet") }
            executor = try launchUnderMPI(mpi, path: path, cache: cache, scheduler: scheduler, parallel: parallel,
                                          traceFile: traceFile, format: format, loadRankZero: loadRankZero, log: log)
        } else {
            executor = try MultiProcessExecutor(modelPath: path, parallel: parallel, cache: cache, scheduler: scheduler,
                                                traceFile: traceFile, format: format, replicas: replicas, loadRankZero: loadRankZero, log: log)
        }
        guard let bundle else { preconditionFailure("rank 0 loaded no bundle") }
        let core = try EngineCore(config: scheduler, executor: executor)
        var eos = Set(bundle.config.eosTokenIds)
        if let id = bundle.tokenizer.eosTokenId { eos.insert(id) }
        return (LLMEngine(core: core, tokenizer: bundle.tokenizer, eosTokenIds: bundle.stopTokenIds.isEmpty ? eos : bundle.stopTokenIds), bundle)
    }

    /// Under `mpirun` every rank runs the same command: rank 0 becomes the engine (and device 0),
    /// the others serve as workers here and exit when rank 0 shuts down; this never returns on them.
    static func launchUnderMPI(_ mpi: (rank: Int, size: Int, localSize: Int), path: String, cache: CacheConfig, scheduler: SchedulerConfig,
                               parallel: ParallelConfig, traceFile: String?, format: WeightFormat,
                               loadRankZero: ((ModelConfig) throws -> ShardPlan) throws -> any CausalLanguageModel,
                               log: (String) -> Void) throws -> MultiProcessExecutor {
        guard mpi.size == parallel.worldSize else {
            throw EngineError.configuration("mpirun started \(mpi.size) ranks but --tensor-parallel-size × --pipeline-parallel-size is \(parallel.worldSize); run mpirun -np \(parallel.worldSize)")
        }
        let config = try ModelBundle.config(path: path)
        _ = try parallel.validate(for: config)
        let control = try MpiCommunicator(), data = try MpiCommunicator()
        let cache = MultiProcessExecutor.deviceShare(cache, localDevices: mpi.localSize)
        guard mpi.rank == 0 else {
            if getenv("SHARDLINE_NUM_THREADS") == nil {
                setenv("SHARDLINE_NUM_THREADS", String(MultiProcessExecutor.threadsPerDevice(localDevices: mpi.localSize)), 1)
            }
            let spec = WorkerSpec(modelPath: path, rank: mpi.rank, parallel: parallel, cache: cache,
                                  maxNumBatchedTokens: scheduler.maxNumBatchedTokens, maxModelLen: scheduler.maxModelLen,
                                  controlSegment: "", dataSegment: "", parentPid: 0, tracing: traceFile != nil, format: format)
            let code = Worker.run(spec: spec, control: control, data: data)
            control.drain()
            data.drain()
            MpiCommunicator.finalize()
            exit(code)
        }
        return try MultiProcessExecutor(config: config, parallel: parallel, cache: cache, scheduler: scheduler, traceFile: traceFile,
                                        control: control, data: data, workers: [], localDevices: mpi.localSize,
                                        loadRankZero: loadRankZero, log: log)
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
