import Foundation
import Synchronization

/// One engine behind `EngineClient`: its own loop thread (compute must not block the cooperative
/// pool, which has only as many threads as cores), its own inbox of requests and aborts, and
/// the streams of the requests it serves. With data parallelism there is one per replica.
final class EngineReplica: Sendable {
    private enum Command {
        case add(RequestID, [Int], SamplingParams, Int, AsyncThrowingStream<RequestOutput, any Error>.Continuation)
        case abort(RequestID)
    }

    private struct Inbox {
        var commands: [Command] = []
        var stopping = false
    }

    let engine: LLMEngine
    let index: Int
    private let stats: ReplicaStats
    private let inbox = Mutex(Inbox())
    private let wakeup = NSCondition()
    private let healthy = Atomic<Bool>(true)
    /// Requests sent here whose streams have not ended: the router's load, counted at once, so
    /// a burst arriving before the next step does not all see the same loads.
    private let outstanding = Atomic<Int>(0)

    init(engine: LLMEngine, index: Int, stats: ReplicaStats) {
        self.engine = engine
        self.index = index
        self.stats = stats
        let thread = Thread { [self] in loop() }
        thread.name = "shardline-engine-\(index)"
        thread.start()
    }

    var isHealthy: Bool { healthy.load(ordering: .relaxed) }
    var load: Int { outstanding.load(ordering: .relaxed) }

    func markUnhealthy() { healthy.store(false, ordering: .relaxed) }

    func generate(id: RequestID, promptTokenIds: [Int], params: SamplingParams, priority: Int)
        -> AsyncThrowingStream<RequestOutput, any Error>
    {
        let (stream, continuation) = AsyncThrowingStream<RequestOutput, any Error>.makeStream()
        outstanding.add(1, ordering: .relaxed)
        continuation.onTermination = { [weak self] termination in
            self?.outstanding.subtract(1, ordering: .relaxed)
            if case .cancelled = termination { self?.abort(id) }
        }
        send(.add(id, promptTokenIds, params, priority, continuation))
        return stream
    }

    /// A no-op for a request this replica does not hold.
    func abort(_ id: RequestID) { send(.abort(id)) }

    func shutdown() {
        inbox.withLock { $0.stopping = true }
        wakeup.lock()
        wakeup.signal()
        wakeup.unlock()
    }

    private func send(_ command: Command) {
        inbox.withLock { $0.commands.append(command) }
        wakeup.lock()
        wakeup.signal()
        wakeup.unlock()
    }

    private func loop() {
        var streams: [RequestID: AsyncThrowingStream<RequestOutput, any Error>.Continuation] = [:]
        while true {
            let (commands, stopping) = inbox.withLock { box in
                defer { box.commands.removeAll() }
                return (box.commands, box.stopping)
            }
            if stopping || !isHealthy {
                for s in streams.values { s.finish(throwing: EngineError.executionFailed("the engine is shutting down")) }
                return
            }
            for command in commands {
                switch command {
                case .add(let id, let prompt, let params, let priority, let continuation):
                    do {
                        try engine.addRequest(id: id, promptTokenIds: prompt, params: params, priority: priority)
                        streams[id] = continuation
                    } catch {
                        continuation.finish(throwing: error)
                    }
                case .abort(let id):
                    if let stream = streams.removeValue(forKey: id) {
                        engine.abort(id)
                        stats.aborted(id)
                        stream.finish()
                    }
                }
            }
            guard engine.hasUnfinishedRequests else {
                publish(outputs: [])
                wakeup.lock()
                if inbox.withLock({ $0.commands.isEmpty && !$0.stopping }) { wakeup.wait() }
                wakeup.unlock()
                continue
            }
            do {
                let outputs = try engine.step()
                for output in outputs {
                    streams[output.requestId]?.yield(output)
                    if output.finished { streams.removeValue(forKey: output.requestId)?.finish() }
                }
                publish(outputs: outputs)
            } catch {
                healthy.store(false, ordering: .relaxed)
                for s in streams.values { s.finish(throwing: EngineError.executionFailed("engine step failed: \(error)")) }
                streams.removeAll()
                publish(outputs: [])
                return
            }
        }
    }

    private func publish(outputs: [RequestOutput]) {
        let scheduler = engine.core.scheduler
        stats.stepped(replica: index, stats: scheduler.stats, events: scheduler.drainEvents(), outputs: outputs, now: engine.core.now)
    }
}
