import Tokenizers

/// One sample's text so far, as a client sees it.
public struct CompletionOutput: Sendable {
    public var index: Int
    public var text: String
    public var tokenIds: [Int]
    /// Text and tokens added by this update (for streaming).
    public var deltaText: String
    public var deltaTokenIds: [Int]
    /// Per generated token, when logprobs were asked for.
    public var logprobs: [SampledToken]
    public var deltaLogprobs: [SampledToken]
    public var finishReason: FinishReason?
    /// The stop string or stop token id that ended the sample, as vLLM's `stop_reason`.
    public var stopReason: StopReason?
}

public enum StopReason: Sendable, Equatable {
    case string(String)
    case tokenId(Int)
}

/// Everything about a request after an update: its prompt, each sample, usage.
public struct RequestOutput: Sendable {
    public var requestId: RequestID
    public var promptTokenIds: [Int]
    public var outputs: [CompletionOutput]
    public var numCachedTokens: Int
    public var finished: Bool { outputs.allSatisfy { $0.finishReason != nil } }
    public var numGeneratedTokens: Int { outputs.reduce(0) { $0 + $1.tokenIds.count } }
}

/// Turns engine-core token outputs into text: incremental detokenization, stop strings
/// (never split across chunks, excluded unless asked), finish reasons, usage. Runs beside the
/// client side, not in the engine loop. Samples of an `n > 1` request are separate core
/// requests (`"<i>_<id>"`) gathered here under their parent.
public struct OutputProcessor: Sendable {
    let tokenizer: any Tokenizer

    struct Sample: Sendable {
        var parent: RequestID
        var index: Int
        var detokenizer: IncrementalDetokenizer
        var matcher: StopStringMatcher
        /// All decoded text as scalars, and how many of them have been handed out.
        var text: [Unicode.Scalar] = []
        var emitted = 0
        var output: CompletionOutput
    }

    struct Parent: Sendable {
        var promptTokenIds: [Int]
        var samples: [RequestID]
        var numCachedTokens = 0
    }

    private var samples: [RequestID: Sample] = [:]
    private var parents: [RequestID: Parent] = [:]

    public init(tokenizer: any Tokenizer) { self.tokenizer = tokenizer }

    /// Core request ids for a client request with `n` samples.
    public static func sampleIds(_ id: RequestID, n: Int) -> [RequestID] {
        n == 1 ? [id] : (0..<n).map { "\($0)_\(id)" }
    }

    public mutating func add(id: RequestID, promptTokenIds: [Int], params: SamplingParams) {
        let ids = Self.sampleIds(id, n: params.n)
        parents[id] = Parent(promptTokenIds: promptTokenIds, samples: ids)
        for (i, sampleId) in ids.enumerated() {
            samples[sampleId] = Sample(
                parent: id, index: i,
                detokenizer: IncrementalDetokenizer(tokenizer: tokenizer, skipSpecialTokens: params.skipSpecialTokens),
                matcher: StopStringMatcher(stops: params.stop, includeInOutput: params.includeStopStringInOutput),
                output: CompletionOutput(index: i, text: "", tokenIds: [], deltaText: "", deltaTokenIds: [],
                                         logprobs: [], deltaLogprobs: [], finishReason: nil, stopReason: nil))
        }
    }

    public var numUnfinished: Int { parents.count }

    /// Applies core outputs. Returns the updated client requests and the core requests a stop
    /// string finished (the caller tells the core to release them).
    public mutating func process(_ coreOutputs: [EngineCoreOutput]) -> (outputs: [RequestOutput], stoppedByString: [RequestID])
    {
        var touched: [RequestID] = []
        var stopped: [RequestID] = []
        for core in coreOutputs {
            // Taken out of the table while it grows: a copy would share the table's text and ids,
            // and every append below would copy them whole (O(length) per token).
            guard var sample = samples.removeValue(forKey: core.requestId) else { continue }
            defer { samples[core.requestId] = sample }
            if sample.output.finishReason != nil { continue }
            sample.output.deltaText = ""
            sample.output.deltaTokenIds = core.newTokenIds
            sample.output.deltaLogprobs = core.newTokens.filter { $0.logprob != nil }
            sample.output.tokenIds += core.newTokenIds
            sample.output.logprobs += sample.output.deltaLogprobs
            let before = sample.text.count
            sample.text += sample.detokenizer.feed(core.newTokenIds).unicodeScalars
            var finish = core.finishReason
            if finish != nil { sample.text += sample.detokenizer.finish().unicodeScalars }
            if let hit = sample.matcher.match(in: sample.text, previousCount: before) {
                sample.text.removeSubrange(hit.keep...)
                finish = .stop
                sample.output.stopReason = .string(hit.stop)
                if core.finishReason == nil { stopped.append(core.requestId) }
            } else if core.finishReason == .stop, let last = core.newTokenIds.last {
                sample.output.stopReason = .tokenId(last)
            }
            // Hold back text a stop string might still claim, unless the sample is done.
            let releasable = finish == nil ? max(sample.emitted, sample.text.count - sample.matcher.holdBack) : sample.text.count
            if releasable > sample.emitted {
                // Scalar by scalar: the generic append(contentsOf:) took 21 us a token here (the
                // step runs with cold caches after the LM head), this loop 1 us.
                var delta = ""
                for scalar in sample.text[sample.emitted..<releasable] { delta.unicodeScalars.append(scalar) }
                sample.output.deltaText = delta
                sample.output.text += delta
                sample.emitted = releasable
            }
            sample.output.finishReason = finish
            if let cached = parents[sample.parent]?.numCachedTokens {
                parents[sample.parent]?.numCachedTokens = max(cached, core.numCachedTokens)
            }
            if !touched.contains(sample.parent) { touched.append(sample.parent) }
        }
        var outputs: [RequestOutput] = []
        // Only a request with several samples can have one this call did not touch (building
        // the set for every step was 8 us of a batch-1 token).
        var updated: Set<RequestID>?
        for id in touched {
            guard let parent = parents[id] else { continue }
            if parent.samples.count > 1 && updated == nil { updated = Set(coreOutputs.map(\.requestId)) }
            // Samples this call did not touch report empty deltas: nothing new to stream.
            let sampleOutputs = parent.samples.compactMap { sampleId -> CompletionOutput? in
                guard var output = samples[sampleId]?.output else { return nil }
                if let updated, !updated.contains(sampleId) {
                    output.deltaText = ""
                    output.deltaTokenIds = []
                    output.deltaLogprobs = []
                }
                return output
            }
            let out = RequestOutput(requestId: id, promptTokenIds: parent.promptTokenIds,
                                    outputs: sampleOutputs, numCachedTokens: parent.numCachedTokens)
            if out.finished {
                parents[id] = nil
                for s in parent.samples { samples[s] = nil }
            }
            outputs.append(out)
        }
        return (outputs, stopped)
    }

    /// Drops a client request (abort), returning its core request ids.
    public mutating func remove(_ id: RequestID) -> [RequestID] {
        guard let parent = parents.removeValue(forKey: id) else { return [] }
        for s in parent.samples { samples[s] = nil }
        return parent.samples
    }
}
