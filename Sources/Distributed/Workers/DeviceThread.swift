import Engine
import Foundation

/// Rank 0's device, on a thread of its own: the engine thread hands it a batch and goes on to
/// schedule the next while stage 0 still computes, so with pipeline parallelism stage 0 never
/// waits for the scheduler. (A worker process is the same loop with its batches arriving over
/// shared memory.)
final class DeviceThread: @unchecked Sendable {
    private let runner: ModelRunner
    private let condition = NSCondition()
    private var queue: [SchedulerOutput] = []
    private var outputs: [ModelRunnerOutput] = []
    private var failure: (any Error)?
    private var stopping = false

    init(runner: ModelRunner) {
        self.runner = runner
        let thread = Thread { [self] in loop() }
        thread.name = "shardline-rank0"
        thread.start()
    }

    func submit(_ batch: SchedulerOutput) throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        queue.append(batch)
        condition.signal()
    }

    /// The next sampled output (only when this rank samples).
    func takeOutput() throws -> ModelRunnerOutput {
        condition.lock()
        defer { condition.unlock() }
        while outputs.isEmpty && failure == nil { condition.wait() }
        if let failure { throw failure }
        return outputs.removeFirst()
    }

    /// Throws the device's failure, if it has failed.
    func check() throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            let batch = queue.removeFirst()
            condition.unlock()
            do {
                let output = try runner.execute(batch)
                condition.lock()
                if let output { outputs.append(output) }
                condition.broadcast()
                condition.unlock()
            } catch {
                condition.lock()
                failure = error
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }
}
