import Compute
import Engine
import Foundation
import ModelFormats
import Models
import ShardlineIPC
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs a model cut over tp × pp devices, one process each. This process is rank 0: it runs
/// the engine and the first stage's tensor-parallel rank 0, and starts the other ranks as
/// `shardline worker` processes joined by one shared-memory segment.
///
/// A step: rank 0 sends the batch to every worker, computes its own shard (stage 0), and the
/// stages pass activations down; the last stage samples and sends the tokens back. Up to pp
/// batches are in flight, so while stage 1 runs batch b, stage 0 already runs batch b+1.
public final class MultiProcessExecutor: Executor, @unchecked Sendable {
    public let parallel: ParallelConfig
    public let numBlocks: Int
    public let vocabSize: Int
    public let runner: ModelRunner
    /// One line per device, rank order, as printed at startup.
    public let deviceLines: [String]
    public let capacityLine: String
    /// Engine ↔ workers: batches out, sampled tokens back (the engine thread's).
    private let control: any Communicator
    /// Device ↔ device: all-reduces and activations (rank 0's device thread's).
    private let data: any Communicator
    private let device: DeviceThread
    private let workers: [Process]
    private let traceFile: String?
    private let stopped = Atomic<Bool>(false)

    public var maxBatchesInFlight: Int { parallel.pipelineParallelSize }

    /// Starts tp × pp − 1 worker processes on this machine, joined by shared memory, and loads
    /// rank 0's shard; returns once every device has reported. `loadRankZero` loads this rank's
    /// bundle (model shard plus tokenizer) for a given plan.
    public convenience init(modelPath: String, parallel: ParallelConfig, cache: CacheConfig, scheduler: SchedulerConfig,
                            traceFile: String? = nil, format: WeightFormat = .float32, executable: String = CommandLine.executablePath,
                            replicas: Int = 1,
                            loadRankZero: ((ModelConfig) throws -> ShardPlan) throws -> any CausalLanguageModel,
                            log: (String) -> Void = { _ in }) throws {
        let config = try ModelBundle.config(path: modelPath)
        _ = try parallel.validate(for: config)
        let world = parallel.worldSize
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // Data-parallel replicas on this machine share its memory and cores with this group.
        let localDevices = world * max(1, replicas)
        let cache = Self.deviceShare(cache, localDevices: localDevices)
        let name = "/shardline-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let control = try ShmCommunicator.create(name: name + "-control", worldSize: world, ringCapacity: 1 << 20)
        let data = try ShmCommunicator.create(name: name + "-data", worldSize: world)
        if localDevices > cores { data.shareCores() }
        var spec = WorkerSpec(modelPath: modelPath, rank: 0, parallel: parallel, cache: cache,
                              maxNumBatchedTokens: scheduler.maxNumBatchedTokens, maxModelLen: scheduler.maxModelLen,
                              controlSegment: control.name, dataSegment: data.name, parentPid: getpid(), tracing: traceFile != nil, format: format)
        var started: [Process] = []
        var environment = ProcessInfo.processInfo.environment
        environment["SHARDLINE_NUM_THREADS"] = String(Self.threadsPerDevice(localDevices: localDevices))
        do {
            for rank in 1..<world {
                spec.rank = rank
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = ["worker", "--spec", String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)]
                process.environment = environment
                try process.run()
                control.setPid(process.processIdentifier, of: rank)
                data.setPid(process.processIdentifier, of: rank)
                started.append(process)
            }
        } catch {
            started.forEach { kill($0.processIdentifier, SIGKILL) }
            throw EngineError.configuration("could not start the worker processes (\(executable)): \(error)")
        }
        defer { control.unlinkName(); data.unlinkName() }
        try self.init(config: config, parallel: parallel, cache: cache, scheduler: scheduler, traceFile: traceFile,
                      control: control, data: data, workers: started, localDevices: localDevices, loadRankZero: loadRankZero, log: log)
    }

    /// Rank 0 of a group whose other ranks are already running (started here, or by mpirun):
    /// loads its shard, gathers every device's report, agrees the block count.
    public init(config: ModelConfig, parallel: ParallelConfig, cache: CacheConfig, scheduler: SchedulerConfig, traceFile: String?,
                control: any Communicator, data: any Communicator, workers: [Process], localDevices: Int,
                loadRankZero: ((ModelConfig) throws -> ShardPlan) throws -> any CausalLanguageModel,
                log: (String) -> Void = { _ in }) throws {
        self.parallel = parallel
        self.traceFile = traceFile
        self.control = control
        self.data = data
        self.workers = workers
        let world = parallel.worldSize
        do {
            // This process computes too: its pool gets its share of the cores.
            if getenv("SHARDLINE_NUM_THREADS") == nil { setenv("SHARDLINE_NUM_THREADS", String(Self.threadsPerDevice(localDevices: localDevices)), 1) }
            let shard = try DeviceShard.load(rank: 0, parallel: parallel, data: data, cache: cache, scheduler: scheduler, loadModel: loadRankZero)
            let model = shard.model
            var lines = [shard.describe(rank: 0)]
            var blocks = shard.budget.numBlocks
            for rank in 1..<world {
                let report = try JSONDecoder().decode(WorkerReport.self, from: Data(try control.receiveMessage(from: rank)))
                if let error = report.error { throw EngineError.configuration("worker rank \(rank): \(error)") }
                lines.append(report.description)
                blocks = min(blocks, report.numBlocks)
            }
            let total = blocks + 1  // plus the null block
            numBlocks = total
            var answer = [UInt8](repeating: 0, count: 8)
            answer.withUnsafeMutableBytes { $0.storeBytes(of: Int64(total).littleEndian, as: Int64.self) }
            for rank in 1..<world { try control.sendMessage(answer, to: rank) }
            runner = ModelRunner(model: model, numBlocks: total, blockSize: cache.blockSize,
                                 links: parallel.links(rank: 0, communicator: data))
            if traceFile != nil { runner.trace = TraceRecorder(rank: 0, stage: 0, tpRank: 0) }
            device = DeviceThread(runner: runner)
            vocabSize = config.vocabSize
            deviceLines = lines
            capacityLine = "KV cache: \(blocks * cache.blockSize) tokens per device group (\(blocks) blocks on each of \(world) devices, the minimum over workers); max concurrency at max-model-len \(scheduler.maxModelLen): \(String(format: "%.2f", Double(blocks * cache.blockSize) / Double(scheduler.maxModelLen)))x"
        } catch {
            workers.forEach { kill($0.processIdentifier, SIGKILL) }
            throw error
        }
        deviceLines.forEach(log)
        log(capacityLine)
    }

    /// A device's default memory: the machine's, shared by the devices on it.
    static func deviceShare(_ cache: CacheConfig, localDevices: Int) -> CacheConfig {
        var cache = cache
        if cache.deviceMemory == nil { cache.deviceMemory = Int(ProcessInfo.processInfo.physicalMemory) / max(1, localDevices) }
        return cache
    }

    /// Each device's share of this machine's cores.
    static func threadsPerDevice(localDevices: Int) -> Int {
        max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, localDevices))
    }

    public func submit(_ batch: SchedulerOutput) throws {
        let message = try ControlMessage.step(batch).encoded()
        for rank in 1..<parallel.worldSize { try control.sendMessage(message, to: rank) }
        try device.submit(batch)
    }

    public func collect() throws -> ModelRunnerOutput {
        if parallel.samplingRank == 0 { return try device.takeOutput() }
        try device.check()
        return try ModelRunnerOutput.decode(try control.receiveMessage(from: parallel.samplingRank))
    }

    public var deadDevice: String? {
        guard !stopped.load(ordering: .acquiring) else { return nil }
        guard let (i, process) = workers.enumerated().first(where: { !$0.element.isRunning }) else { return nil }
        return "worker rank \(i + 1) (pid \(process.processIdentifier)) exited with status \(process.terminationStatus)"
    }

    /// Stops every worker, gathering their timelines when tracing, and writes the trace.
    public func shutdown() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        device.stop()
        var tracks = runner.trace.map { [$0.track] } ?? []
        if let message = try? ControlMessage.shutdown.encoded() {
            for rank in 1..<parallel.worldSize { try? control.sendMessage(message, to: rank) }
            for rank in 1..<parallel.worldSize {
                guard let reply = try? control.receiveMessage(from: rank, timeout: 10), !reply.isEmpty else { continue }
                if let track = try? JSONDecoder().decode(TraceRecorder.Track.self, from: Data(reply)) { tracks.append(track) }
            }
        }
        for process in workers {
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        if let control = control as? MpiCommunicator, let data = data as? MpiCommunicator {
            control.drain()
            data.drain()
            MpiCommunicator.finalize()
        }
        if let traceFile {
            do {
                try ChromeTrace.write(tracks.sorted { $0.rank < $1.rank }, to: traceFile)
                FileHandle.standardError.write(Data("Trace written to \(traceFile)\n\(ChromeTrace.summaryText(tracks))\n".utf8))
            } catch {
                FileHandle.standardError.write(Data("Error: could not write --trace-file \(traceFile): \(error)\n".utf8))
            }
        }
    }

    deinit {
        for process in workers where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

extension CommandLine {
    /// This program's own file, to start workers from (argv[0] may be relative or on PATH).
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
