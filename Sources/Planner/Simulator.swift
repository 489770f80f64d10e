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
        let clock = VirtualClock()
        let vocab = costModel.memory.model.vocabSize
        let executor = SimulatedExecutor(costModel: costModel, clock: clock, numBlocks: numBlocks + 1, vocabSize: vocab)
        executor.recordSlices = recordTrace
        let core = try EngineCore(config: config, executor: executor, clock: clock.closure)

        var arrivals = workload.arrivalTimes()
        var released = workload.numRequests
        if case .closedLoop(let concurrency) = workload.arrivals {
            released = min(max(1, concurrency), workload.numRequests)
        }
        var nextIndex = 0
        var timelines: [Timeline] = []
        var completed = 0

        func admitArrived() throws {
            while nextIndex < released && arrivals[nextIndex] <= clock.now {
                let (prompt, output) = lengths[nextIndex]
                var sampling = SamplingParams.greedy
                sampling.maxTokens = output
                sampling.ignoreEOS = true
                sampling.seed = workload.seed &+ UInt64(nextIndex)
                let request = Request(id: "sim-\(nextIndex)",
                                      promptTokenIds: workload.promptTokens(request: nextIndex, count: prompt, vocabSize: vocab),
                                      sampling: sampling, arrivalTime: arrivals[nextIndex])
                try core.addRequest(request)
                timelines.append(Timeline(arrival: arrivals[nextIndex]))
                nextIndex += 1
            }
        }

        while completed < workload.numRequests {
            try admitArrived()
            if !core.hasUnfinishedRequests {
                // Idle: jump to the next arrival.
                guard nextIndex < released else {
                    throw EngineError.executionFailed("simulation idle with \(workload.numRequests - completed) requests never released")
                }
                clock.advance(to: arrivals[nextIndex])
                continue
            }
            let before = clock.now
            let outputs = try core.step()
            // Latencies come from the outputs; the scheduler's event log would only grow.
            _ = core.scheduler.drainEvents()
            for out in outputs {
                guard let index = Int(out.requestId.dropFirst(4)) else { continue }
                for _ in out.newTokenIds { timelines[index].tokenTimes.append(clock.now) }
                if out.finishReason != nil {
                    timelines[index].finish = clock.now
                    completed += 1
                    if case .closedLoop = workload.arrivals, released < workload.numRequests {
                        arrivals[released] = clock.now
                        released += 1
                    }
                }
            }
            if outputs.isEmpty && core.batchesInFlight == 0 && clock.now == before && core.hasUnfinishedRequests {
                // Nothing ran and nothing is in flight: only a new arrival can change that.
                guard nextIndex < released else {
                    throw EngineError.executionFailed("simulation stalled: the scheduler scheduled nothing with \(workload.numRequests - completed) requests unfinished")
                }
                clock.advance(to: arrivals[nextIndex])
            }
        }
        return report(timelines, lengths: lengths, executor: executor, preemptions: core.scheduler.numPreemptionsTotal)
    }

    private func report(_ timelines: [Timeline], lengths: [(prompt: Int, output: Int)], executor: SimulatedExecutor,
                        preemptions: Int) -> SimulationReport {
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
        return SimulationReport(
            completedRequests: timelines.filter { $0.finish != nil }.count, promptTokens: promptTokens, outputTokens: outputTokens,
            durationSeconds: duration, requestThroughput: Double(timelines.count) / duration,
            outputTokenThroughput: Double(outputTokens) / duration,
            totalTokenThroughput: Double(outputTokens + promptTokens) / duration,
            ttft: LatencySummary(ttft), tpot: LatencySummary(tpot), itl: LatencySummary(itl), e2e: LatencySummary(e2e),
            stageBusyFraction: executor.stageBusySeconds.map { $0 / duration },
            numPreemptions: preemptions, numBatches: executor.batchesExecuted,
            stageSlices: recordTrace ? executor.stageSlices : nil)
    }
}
