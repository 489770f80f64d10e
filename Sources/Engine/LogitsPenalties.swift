/// The logits processors that run before sampling and can change the argmax, in vLLM v1's order:
/// min_tokens masking first, then repetition, frequency and presence penalties
/// (`vllm/v1/sample/sampler.py`, `apply_penalties`). Both touch only the few token ids they
/// concern, never the whole 262k-wide row, so they cost O(prompt + output), not O(vocab).
public enum LogitsPenalties {
    /// Token ids that must not be sampled at this step because the request has produced fewer
    /// than `minTokens` tokens: its `stopTokenIds` always, and the EOS ids unless `ignoreEOS`
    /// (vLLM's `all_stop_token_ids`). Empty once min_tokens is reached.
    public static func minTokensMaskedIds(_ state: SamplingState) -> [Int] {
        let params = state.params
        guard state.outputTokenIds.count < params.minTokens else { return [] }
        var ids = params.stopTokenIds
        if !params.ignoreEOS { ids.append(contentsOf: state.eosTokenIds.sorted()) }
        return ids
    }

    /// Sets the logits of `ids` to -inf; ids outside the row are ignored.
    public static func mask(_ logits: UnsafeMutableBufferPointer<Float>, ids: [Int]) {
        for id in ids where id >= 0 && id < logits.count { logits[id] = -.infinity }
    }

    /// False when all three penalties are neutral, so the sampler can skip them entirely.
    public static func isActive(_ params: SamplingParams) -> Bool {
        params.repetitionPenalty != 1 || params.frequencyPenalty != 0 || params.presencePenalty != 0
    }

    /// vLLM's `apply_penalties`, on one row:
    /// - repetition `r` on every token seen in the prompt or the output (once per token):
    ///   a positive logit is divided by `r`, any other is multiplied by `r` (CTRL's rule, which
    ///   pushes both signs away from being chosen when r > 1);
    /// - frequency `f`: `logit -= f * count(token in output)`;
    /// - presence `p`: `logit -= p` for each token that occurs in the output.
    /// Frequency and presence follow the OpenAI definition and look at output tokens only.
    public static func apply(
        _ logits: UnsafeMutableBufferPointer<Float>,
        repetition: Float, frequency: Float, presence: Float,
        promptTokenIds: [Int], outputTokenIds: [Int]
    ) {
        let vocab = logits.count
        if repetition != 1 {
            // A bitset dedupes prompt ∪ output in O(n) with a 32 KiB scratch for a 262k vocab.
            var seen = [UInt64](repeating: 0, count: (vocab + 63) / 64)
            func visit(_ id: Int) {
                guard id >= 0, id < vocab else { return }
                let bit: UInt64 = 1 << UInt64(id & 63)
                guard seen[id >> 6] & bit == 0 else { return }
                seen[id >> 6] |= bit
                let l = logits[id]
                logits[id] = l > 0 ? l / repetition : l * repetition
            }
            for id in promptTokenIds { visit(id) }
            for id in outputTokenIds { visit(id) }
        }
        guard frequency != 0 || presence != 0, !outputTokenIds.isEmpty else { return }
        // Counts by sorting a copy: the output is short, and this avoids hashing.
        let sorted = outputTokenIds.sorted()
        var start = 0
        while start < sorted.count {
            let id = sorted[start]
            var end = start + 1
            while end < sorted.count, sorted[end] == id { end += 1 }
            if id >= 0, id < vocab {
                logits[id] -= frequency * Float(end - start)
                logits[id] -= presence
            }
            start = end
        }
    }

    /// Convenience: both steps for one request, as the sampler runs them.
    public static func applyAll(_ logits: UnsafeMutableBufferPointer<Float>, state: SamplingState) {
        mask(logits, ids: minTokensMaskedIds(state))
        let p = state.params
        if isActive(p) {
            apply(logits, repetition: p.repetitionPenalty, frequency: p.frequencyPenalty,
                  presence: p.presencePenalty, promptTokenIds: state.promptTokenIds,
                  outputTokenIds: state.outputTokenIds)
        }
    }
}
