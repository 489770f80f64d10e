import Foundation
import Synchronization
import Tokenizers

/// What the engine loop reports after each step, for metrics and logs.
public protocol EngineObserver: AnyObject, Sendable {
    func engineStepped(stats: SchedulerStats, events: [EngineEvent], outputs: [RequestOutput], now: Double)
    /// A client request was aborted before it finished (its samples produce no final output).
    func requestAborted(_ id: RequestID)
}

/// The async front of the engine for servers: requests come in from any task, one dedicated
/// thread runs the engine loop (compute must not block the cooperative pool, which has only
/// as many threads as cores), and each request's outputs come back as an async stream.
/// Cancelling a stream (a client hanging up) aborts its request and frees its blocks.
public final class EngineClient: Sendable {
    private enum Command {
        case add(RequestID, [Int], SamplingParams, Int, AsyncThrowingStream<RequestOutput, any Error>.Continuation)
        case abort(RequestID)
    }

    private struct Inbox {
        var commands: [Command] = []
        var stopping = false
    }

    private let engine: LLMEngine
    private let observer: (any EngineObserver)?
    private let inbox = Mutex(Inbox())
    private let wakeup = NSCondition()
    private let healthy = Atomic<Bool>(true)
    private let lastStats = Mutex(SchedulerStats())
    private let counter = Atomic<Int>(0)

    public init(engine: LLMEngine, observer: (any EngineObserver)? = nil) {
        self.engine = engine
        self.observer = observer
        let thread = Thread { [self] in loop() }
        thread.name = "shardline-engine"
        thread.start()
    }

    public var tokenizer: any Tokenizer { engine.tokenizer }
    public var maxModelLen: Int { engine.core.scheduler.config.maxModelLen }
    public var vocabSize: Int { engine.core.executor.vocabSize }
    /// False once the executor has failed; the server's /health turns 503.
    public var isHealthy: Bool { healthy.load(ordering: .relaxed) }
    public var stats: SchedulerStats { lastStats.withLock { $0 } }

    /// A device was found dead outside a step (the engine was idle): /health turns 503.
    public func markUnhealthy() { healthy.store(false, ordering: .relaxed) }

    public func makeRequestId(prefix: String) -> RequestID {
        "\(prefix)-\(counter.add(1, ordering: .relaxed).newValue)"
    }

    /// Queues a request; errors found by the engine (bad ids, lengths) end the stream.
    public func generate(id: RequestID, promptTokenIds: [Int], params: SamplingParams, priority: Int = 0)
        -> AsyncThrowingStream<RequestOutput, any Error>
    {
        let (stream, continuation) = AsyncThrowingStream<RequestOutput, any Error>.makeStream()
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { self?.abort(id) }
        }
        send(.add(id, promptTokenIds, params, priority, continuation))
        return stream
    }

    public func abort(_ id: RequestID) { send(.abort(id)) }

    public func shutdown() {
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
                        observer?.requestAborted(id)
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
        let stats = engine.core.scheduler.stats
        lastStats.withLock { $0 = stats }
        observer?.engineStepped(stats: stats, events: engine.core.scheduler.drainEvents(), outputs: outputs, now: engine.core.now)
    }
}
