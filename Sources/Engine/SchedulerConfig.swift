/// Which running request is preempted first and which waiting request is admitted first.
public enum SchedulingPolicy: String, Sendable, CaseIterable {
    /// First come, first served: the newest running request is preempted first.
    case fcfs
    /// Lowest `priority` value first, then arrival; the lowest-priority request is preempted.
    case priority
}

/// The scheduler's knobs, named after vLLM's flags.
public struct SchedulerConfig: Sendable, Equatable {
    /// `--max-num-batched-tokens`: tokens per step across all requests.
    public var maxNumBatchedTokens = 2048
    /// `--max-num-seqs`: requests running at once.
    public var maxNumSeqs = 256
    /// `--max-model-len`: prompt plus output tokens of one request.
    public var maxModelLen = 2048
    /// `--block-size`: tokens per KV block.
    public var blockSize = 16
    /// `--enable-prefix-caching` / `--no-enable-prefix-caching`.
    public var enablePrefixCaching = true
    /// Split long prompts over several steps; without it a prompt must fit the budget whole.
    public var enableChunkedPrefill = true
    /// `--scheduling-policy`.
    public var policy: SchedulingPolicy = .fcfs
    /// Pipeline stages: up to this many batches in flight, each capped at about 1/pp of the budget.
    public var pipelineDepth = 1

    public init() {}

    public func validate() throws(EngineError) {
        guard maxNumBatchedTokens > 0 else { throw .configuration("--max-num-batched-tokens must be positive") }
        guard maxNumSeqs > 0 else { throw .configuration("--max-num-seqs must be positive") }
        guard maxModelLen > 0 else { throw .configuration("--max-model-len must be positive") }
        guard blockSize > 0 else { throw .configuration("--block-size must be positive") }
        guard pipelineDepth > 0 else { throw .configuration("--pipeline-parallel-size must be positive") }
        if !enableChunkedPrefill && maxNumBatchedTokens < maxModelLen {
            throw .configuration("--max-num-batched-tokens (\(maxNumBatchedTokens)) is smaller than --max-model-len (\(maxModelLen)) and chunked prefill is off: long prompts could never be scheduled")
        }
    }
}
