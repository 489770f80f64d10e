import Engine
import Foundation
import Models
import ShardlineIPC
#if canImport(Glibc)
import Glibc
#endif

/// The body of a worker process (`shardline worker`): attach to the group, load this rank's
/// shard, report, then run every batch rank 0 sends until it says stop. Dies with its parent.
public enum Worker {
    public static func run(spec: WorkerSpec) -> Int32 {
        // The kernel kills a worker whose engine died; the check covers a parent already gone.
        _ = sl_set_parent_death_signal(SIGKILL)
        guard getppid() == spec.parentPid else { return 1 }
        let control: ShmCommunicator, data: ShmCommunicator
        do {
            control = try ShmCommunicator.attach(name: spec.controlSegment, rank: spec.rank)
            data = try ShmCommunicator.attach(name: spec.dataSegment, rank: spec.rank)
        } catch {
            FileHandle.standardError.write(Data("Error: worker \(spec.rank): \(error)\n".utf8))
            return 1
        }
        control.setPid(spec.parentPid, of: 0)
        data.setPid(spec.parentPid, of: 0)
        if spec.parallel.worldSize > ProcessInfo.processInfo.activeProcessorCount { data.shareCores() }
        return run(spec: spec, control: control, data: data)
    }

    /// A worker over communicators already connected (shared memory, or mpirun's ranks).
    public static func run(spec: WorkerSpec, control: any Communicator, data: any Communicator) -> Int32 {
        do {
            let runner = try join(spec: spec, control: control, data: data)
            return try serve(runner: runner, control: control)
        } catch {
            FileHandle.standardError.write(Data("Error: worker \(spec.rank): \(error)\n".utf8))
            return 1
        }
    }

    /// Loads the shard, reports to rank 0 and receives the group's block count.
    static func join(spec: WorkerSpec, control: any Communicator, data: any Communicator) throws -> ModelRunner {
        var report = WorkerReport(rank: spec.rank, description: "", numBlocks: 0)
        var shard: DeviceShard?
        do {
            let s = try DeviceShard.load(rank: spec.rank, parallel: spec.parallel, data: data, cache: spec.cache, scheduler: spec.scheduler) { plan in
                try withoutActuallyEscaping(plan) { try ModelBundle.loadModel(path: spec.modelPath, shard: $0, format: spec.format) }
            }
            report.description = s.describe(rank: spec.rank)
            report.numBlocks = s.budget.numBlocks
            shard = s
        } catch {
            report.error = "\(error)"
        }
        try control.sendMessage(Array(try JSONEncoder().encode(report)), to: 0)
        guard let shard else { throw EngineError.configuration(report.error ?? "") }
        let answer = try control.receiveMessage(from: 0)
        guard answer.count == 8 else { throw CommunicatorError.protocolViolation("a block count of \(answer.count) bytes") }
        let numBlocks = answer.withUnsafeBytes { Int(Int64(littleEndian: $0.loadUnaligned(as: Int64.self))) }
        let runner = ModelRunner(model: shard.model, numBlocks: numBlocks, blockSize: spec.cache.blockSize,
                                 links: spec.parallel.links(rank: spec.rank, communicator: data))
        if spec.tracing {
            runner.trace = TraceRecorder(rank: spec.rank, stage: spec.parallel.stage(ofRank: spec.rank), tpRank: spec.parallel.tpRank(ofRank: spec.rank))
        }
        return runner
    }

    /// The step loop. Idle waits sleep on a futex and last as long as rank 0 lives.
    static func serve(runner: ModelRunner, control comm: any Communicator) throws -> Int32 {
        while true {
            switch try ControlMessage.decode(try comm.receiveMessage(from: 0, timeout: nil)) {
            case .step(let batch):
                if let output = try runner.execute(batch) { try comm.sendMessage(output.encoded(), to: 0) }
            case .shutdown:
                let track = runner.trace.map { try? JSONEncoder().encode($0.track) } ?? nil
                try comm.sendMessage(track.map { Array($0) } ?? [], to: 0)
                return 0
            }
        }
    }
}
