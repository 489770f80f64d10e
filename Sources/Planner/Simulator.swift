import Engine

/// Runs a workload through the real `EngineCore` (its Scheduler and KVCacheManager unchanged)
/// on a `SimulatedExecutor`, in virtual time, and measures what the benchmark client would.
public struct Simulator: Sendable {
    public var costModel: CostModel
    /// The engine's scheduler settings; `pipelineDepth` is set from the layout's PP.
    public var scheduler: SchedulerConfig
    /// Usable KV blocks of one replica (the pool adds the null block).
    public var numBlocks: Int
    /// Keep every batch's per-stage slice in the report (`simulate --trace-file`).
    public var recordTrace = false
    /// Data parallel: whole engines, each with `numBlocks` of KV, behind one router.
    public var replicas = 1
    public var routing: RoutingPolicy = .roundRobin
    /// How long an idle pipeline stage spins before it sleeps (alone rates: `SimulatedExecutor`).
    public var stageParkAfter = SimulatedExecutor.parkAfter

    public init(costModel: CostModel, scheduler: SchedulerConfig, numBlocks: Int) {
        self.costModel = costModel
        self.scheduler = scheduler
        self.numBlocks = numBlocks
    }

    /// Per-request timings gathered from the engine's outputs.
    private struct Timeline {
        var arrival: Double
        var tokenTimes: [Double] = []
        var finish: Double?
    }

    public func run(_ workload: Workload) throws -> SimulationReport {
        var config = scheduler
        config.pipelineDepth = costModel.layout.pp
        let lengths = workload.lengths()
        if let bad = lengths.first(where: { $0.prompt + $0.output > config.maxModelLen }) {
            throw PlannerError.invalidRequest("a request of \(bad.prompt) prompt + \(bad.output) output tokens exceeds --max-model-len \(config.maxModelLen)")
        }
        guard replicas >= 1 else { throw PlannerError.invalidRequest("a simulation needs at least one replica, got \(replicas)") }
        let vocab = costModel.memory.model.vocabSize
        let group = try (0..<replicas).map { _ in
            try Replica(config: config, costModel: costModel, numBlocks: numBlocks, vocabSize: vocab, recordTrace: recordTrace,
                        parkAfter: stageParkAfter)
        }
        var router = ReplicaRouter(replicas: replicas, policy: routing, blockSize: config.blockSize, rememberedBlocks: numBlocks)

        var arrivals = workload.arrivalTimes()
        var released = workload.numRequests
        if case .closedLoop(let concurrency) = workload.arrivals {
            released = min(max(1, concurrency), workload.numRequests)
        }
        var nextIndex = 0
        var timelines: [Timeline] = []
        var completed = 0

        // Conservative discrete events: an arrival is routed once every busy replica's clock has
        // reached it (so the router sees the loads of that moment); otherwise the busy replica
        // furthest behind in time steps. One replica is the plain engine loop.
        while completed < workload.numRequests {
            let busy = group.indices.filter { group[$0].core.hasUnfinishedRequests }
                .min { group[$0].clock.now < group[$1].clock.now }
            if nextIndex < released && (busy == nil || arrivals[nextIndex] <= group[busy!].clock.now) {
                let (prompt, output) = lengths[nextIndex]
                var sampling = SamplingParams.greedy
                sampling.maxTokens = output
                sampling.ignoreEOS = true
                sampling.seed = workload.seed &+ UInt64(nextIndex)
                let tokens = workload.promptTokens(request: nextIndex, count: prompt, vocabSize: vocab)
                let target = group[router.route(tokens, loads: group.map(\.load))]
                target.clock.advance(to: arrivals[nextIndex])
                try target.core.addRequest(Request(id: "sim-\(nextIndex)", promptTokenIds: tokens, sampling: sampling,
                                                   arrivalTime: arrivals[nextIndex]))
                timelines.append(Timeline(arrival: arrivals[nextIndex]))
                nextIndex += 1
                continue
            }
            guard let busy else {
                throw EngineError.executionFailed("simulation idle with \(workload.numRequests - completed) requests never released")
            }
            let replica = group[busy]
            let before = replica.clock.now
            let outputs = try replica.core.step()
            // Latencies come from the outputs; the scheduler's event log would only grow.
            _ = replica.core.scheduler.drainEvents()
            for out in outputs {
                guard let index = Int(out.requestId.dropFirst(4)) else { continue }
                for _ in out.newTokenIds { timelines[index].tokenTimes.append(replica.clock.now) }
                if out.finishReason != nil {
                    timelines[index].finish = replica.clock.now
                    completed += 1
                    if case .closedLoop = workload.arrivals, released < workload.numRequests {
                        arrivals[released] = replica.clock.now
                        released += 1
                    }
                }
            }
            if outputs.isEmpty && replica.core.batchesInFlight == 0 && replica.clock.now == before && replica.core.hasUnfinishedRequests {
                // Nothing ran and nothing is in flight: only a new arrival can change that.
                guard nextIndex < released else {
                    throw EngineError.executionFailed("simulation stalled: the scheduler scheduled nothing with \(workload.numRequests - completed) requests unfinished")
                }
                replica.clock.advance(to: arrivals[nextIndex])
            }
        }
        return report(timelines, lengths: lengths, group: group)
    }

    /// One engine (EngineCore, Scheduler, KVCacheManager) on its simulated devices, with its own
    /// virtual clock.
    private final class Replica {
        let clock = VirtualClock()
        let executor: SimulatedExecutor
        let core: EngineCore

        init(config: SchedulerConfig, costModel: CostModel, numBlocks: Int, vocabSize: Int, recordTrace: Bool, parkAfter: Double) throws {
            executor = SimulatedExecutor(costModel: costModel, clock: clock, numBlocks: numBlocks + 1, vocabSize: vocabSize,
                                         parkAfter: parkAfter)
            executor.recordSlices = recordTrace
            core = try EngineCore(config: config, executor: executor, clock: clock.closure)
        }

        var load: Int { core.scheduler.running.count + core.scheduler.waiting.count }
    }

    private func report(_ timelines: [Timeline], lengths: [(prompt: Int, output: Int)], group: [Replica]) -> SimulationReport {
        var ttft: [Double] = [], tpot: [Double] = [], itl: [Double] = [], e2e: [Double] = []
        for t in timelines {
            guard let first = t.tokenTimes.first, let finish = t.finish else { continue }
            ttft.append(first - t.arrival)
            e2e.append(finish - t.arrival)
            if t.tokenTimes.count > 1 {
                tpot.append((t.tokenTimes.last! - first) / Double(t.tokenTimes.count - 1))
                for i in 1..<t.tokenTimes.count { itl.append(t.tokenTimes[i] - t.tokenTimes[i - 1]) }
            }
        }
        let start = timelines.map(\.arrival).min() ?? 0
        let end = timelines.compactMap(\.finish).max() ?? start
        let duration = max(end - start, 1e-12)
        let outputTokens = timelines.reduce(0) { $0 + $1.tokenTimes.count }
        let promptTokens = lengths.prefix(timelines.count).reduce(0) { $0 + $1.prompt }
        let queries = group.reduce(0) { $0 + $1.core.scheduler.stats.prefixCacheQueries }
        let hits = group.reduce(0) { $0 + $1.core.scheduler.stats.prefixCacheHits }
        return SimulationReport(
            completedRequests: timelines.filter { $0.finish != nil }.count, promptTokens: promptTokens, outputTokens: outputTokens,
            durationSeconds: duration, requestThroughput: Double(timelines.count) / duration,
            outputTokenThroughput: Double(outputTokens) / duration,
            totalTokenThroughput: Double(outputTokens + promptTokens) / duration,
            ttft: LatencySummary(ttft), tpot: LatencySummary(tpot), itl: LatencySummary(itl), e2e: LatencySummary(e2e),
            stageBusyFraction: group.flatMap { $0.executor.stageBusySeconds.map { $0 / duration } },
            numPreemptions: group.reduce(0) { $0 + $1.core.scheduler.numPreemptionsTotal },
            numBatches: group.reduce(0) { $0 + $1.executor.batchesExecuted },
            stageSlices: recordTrace ? stageSlices(group) : nil,
            prefixCacheHitRate: queries > 0 ? Double(hits) / Double(queries) : 0)
    }

    /// Replica r's stage s becomes track r × pp + s.
    private func stageSlices(_ group: [Replica]) -> [StageSlice] {
        group.enumerated().flatMap { r, replica in
            replica.executor.stageSlices.map { slice in
                var slice = slice
                slice.stage += r * costModel.layout.pp
                return slice
            }
        }
    }
}
