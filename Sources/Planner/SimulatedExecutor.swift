import Engine

/// An `Executor` that runs no model: it times each batch with the cost model and answers in
/// virtual time. A discrete-event pipeline: stage s starts batch b when it is free and stage
/// s−1 has finished b (plus the hand-off). `collect` moves the clock to the oldest batch's
/// finish on the last stage (plus the tokens' way back to the engine), as a real collect would
/// block until then.
///
/// A measured device with alone rates (`GPUSpec.alone`: host devices that share cores and a
/// memory bus) runs at them while every other stage of the host sleeps: idle for longer than
/// our workers spin before they park on a futex (`parkAfter`, ShmCommunicator's 250 µs). An idle
/// stage still spinning holds its core. Session 4 gave alone rates only to a batch alone in the
/// pipeline (on Zen 1, before the spin had a limit, "whenever a neighbour idled" predicted 1.15×
/// at pp 2, 8 requests); on Zen 4 and Zen 5 that under-predicted pp 2 at 8 requests, where
/// Gemma's head stage is about twice stage 0 and stage 0 sleeps through half of every cycle.
/// Paired on the same measurements (6 rounds, Zen 5, fitted GEMM share): predicted/measured at
/// 1, 8, 32 requests 1.11, 0.81, 1.00 with the lone-batch rule, 1.11, 0.91, 1.08 with this one. The rate of a
/// running stage is re-decided at every submit, stage start or finish and stage falling asleep.
/// Without alone rates every stage runs at its cost-model time, start to finish.
///
/// @unchecked Sendable: driven by the one engine-loop thread, like the real executors.
public final class SimulatedExecutor: Executor, @unchecked Sendable {
    public let numBlocks: Int
    public let vocabSize: Int
    public let costModel: CostModel
    public let clock: VirtualClock
    /// The token every sampling request receives; any in-vocabulary id works because requests
    /// end by max_tokens with ignore_eos.
    public let sampledTokenId: Int

    /// Stage times at the alone rates. tp = 1 only: tensor-parallel ranks are always busy together
    /// (and devices of other hosts never share with this one; one host is what we measure).
    private let aloneCostModel: CostModel?
    /// How long an idle stage spins before it sleeps (ShmCommunicator.spinNanoseconds; the
    /// planner does not link the workers' module).
    public static let parkAfter = 250e-6
    private let parkAfter: Double
    /// When each stage, idle since its last job, falls asleep (−∞: asleep from the start).
    private var parkedAt: [Double]

    /// A submitted batch: its stage times and progress.
    private struct InFlight {
        var batch: SchedulerOutput
        var times: [Double]
        var aloneTimes: [Double]?
        var stageStart: [Double?]
        var finish: Double?
    }

    /// A batch waiting for, or running on, a stage. `remaining` is in seconds at the shared rate.
    private struct Job {
        var id: Int
        var readyAt: Double
        var remaining: Double
    }

    private var batches: [Int: InFlight] = [:]
    private var pending: [Int] = []
    private var nextId = 0
    /// One FIFO per stage; the head runs once it is ready.
    private var queues: [[Job]]
    /// How far the pipeline has been simulated (never past the clock's reading at a submit).
    private var now = 0.0

    public private(set) var stageBusySeconds: [Double]
    public private(set) var batchesExecuted = 0
    /// Every batch's time on every stage, when `recordSlices` is set.
    public var recordSlices = false
    public private(set) var stageSlices: [StageSlice] = []

    public init(costModel: CostModel, clock: VirtualClock, numBlocks: Int, vocabSize: Int, sampledTokenId: Int = 1,
                parkAfter: Double = SimulatedExecutor.parkAfter) {
        self.costModel = costModel
        self.clock = clock
        self.numBlocks = numBlocks
        self.vocabSize = vocabSize
        self.sampledTokenId = min(sampledTokenId, vocabSize - 1)
        aloneCostModel = costModel.layout.tp == 1 && costModel.layout.pp > 1 ? costModel.alone : nil
        queues = Array(repeating: [], count: costModel.layout.pp)
        self.parkAfter = parkAfter
        parkedAt = Array(repeating: -.infinity, count: costModel.layout.pp)
        stageBusySeconds = Array(repeating: 0, count: costModel.layout.pp)
    }

    public var maxBatchesInFlight: Int { costModel.layout.pp }

    public func submit(_ batch: SchedulerOutput) throws {
        // The host hands the batch over now; stage 0 takes it when it is done with the previous one.
        advance(to: clock.now)
        let slices = batch.requests.map {
            BatchSlice(newTokens: $0.numTokens, contextLength: $0.startPosition + $0.numTokens, samples: $0.samples)
        }
        let times = costModel.stageTimes(slices)
        let id = nextId
        nextId += 1
        batches[id] = InFlight(batch: batch, times: times, aloneTimes: aloneCostModel?.stageTimes(slices),
                               stageStart: Array(repeating: nil, count: times.count))
        pending.append(id)
        queues[0].append(Job(id: id, readyAt: clock.now + costModel.engineHandoffTime, remaining: times[0]))
        batchesExecuted += 1
    }

    public func collect() throws -> ModelRunnerOutput {
        guard let id = pending.first else { throw EngineError.executionFailed("collect with no batch in flight") }
        advance(to: .infinity, until: id)
        pending.removeFirst()
        let done = batches.removeValue(forKey: id)!
        clock.advance(to: done.finish!)
        var sampled: [RequestID: SampledToken] = [:]
        for request in done.batch.requests where request.samples {
            sampled[request.id] = SampledToken(tokenId: sampledTokenId)
        }
        return ModelRunnerOutput(sampled: sampled)
    }

    /// Runs the pipeline up to `limit`, or until batch `id` leaves the last stage.
    private func advance(to limit: Double, until id: Int? = nil) {
        while id.map({ batches[$0]?.finish == nil }) ?? true {
            var running: [Int] = []
            var nextReady = Double.infinity
            for s in queues.indices {
                guard let head = queues[s].first else { continue }
                if head.readyAt <= now {
                    if batches[head.id]!.stageStart[s] == nil { batches[head.id]!.stageStart[s] = now }
                    running.append(s)
                } else {
                    nextReady = min(nextReady, head.readyAt)
                }
            }
            // Shared-rate seconds done per second: above 1 while every other stage sleeps.
            let rates = running.map { s -> Double in
                let job = queues[s][0]
                let othersAsleep = queues.indices.allSatisfy { $0 == s || (!running.contains($0) && now >= parkedAt[$0]) }
                guard othersAsleep, let alone = batches[job.id]!.aloneTimes?[s], alone > 0 else { return 1 }
                return max(1, batches[job.id]!.times[s] / alone)
            }
            // The next event: a stage finishing (those stages finish then, whatever rounding
            // leaves of their work), a queued batch becoming ready, an idle stage falling asleep
            // (which matters only with alone rates), or the limit.
            var next = min(limit, nextReady)
            if aloneCostModel != nil {
                for s in queues.indices where !running.contains(s) && parkedAt[s] > now { next = min(next, parkedAt[s]) }
            }
            var finishing: [Int] = []
            for (i, s) in running.enumerated() {
                let done = now + queues[s][0].remaining / rates[i]
                if done < next { next = done; finishing = [s] } else if done == next { finishing.append(s) }
            }
            guard next.isFinite else { return }  // nothing queued
            let dt = max(0, next - now)
            for (i, s) in running.enumerated() { queues[s][0].remaining -= rates[i] * dt }
            now = max(now, next)
            for s in finishing.sorted(by: >) { finishHead(of: s) }
            let finished = !finishing.isEmpty
            if !finished && next >= limit { return }
        }
    }

    private func finishHead(of s: Int) {
        let job = queues[s].removeFirst()
        let b = batches[job.id]!
        let start = b.stageStart[s]!
        stageBusySeconds[s] += now - start
        parkedAt[s] = now + parkAfter
        if recordSlices {
            stageSlices.append(StageSlice(stage: s, batch: b.batch.stepId, tokens: b.batch.totalTokens,
                                          decodeOnly: b.batch.requests.allSatisfy { $0.numTokens == 1 }, start: start, end: now))
        }
        if s + 1 < queues.count {
            let ready = now + costModel.pipelineSendTime(afterStage: s, tokens: b.batch.totalTokens)
            queues[s + 1].append(Job(id: job.id, readyAt: ready, remaining: b.times[s + 1]))
        } else {
            // The engine has the tokens once they are back on its host.
            batches[job.id]!.finish = now + costModel.engineHandoffTime
        }
    }
}
