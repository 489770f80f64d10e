import Engine
import Foundation

/// The synthetic load `bench-model` and the device profile (`plan --profile-device --model`)
/// both run through the engine: fixed pseudo-random prompts and a decode-only rate.
enum SyntheticLoad {
    /// `count` ordinary token ids, away from the specials at the start of most vocabularies;
    /// the same for the same seed.
    static func promptIds(count: Int, seed: Int, vocabSize: Int) -> [Int] {
        let base = min(1000, vocabSize / 2), span = min(vocabSize, 20_000) - base
        return (0..<count).map { base + ($0 * 7919 + seed * 104_729) % span }
    }

    /// Tokens per second over the decode steps only (after every sequence has its first token),
    /// `decodeTokens` per sequence.
    static func decodeRate(_ llm: LLMEngine, prompts: [[Int]], params: SamplingParams, decodeTokens: Int) throws -> Double {
        var p = params
        p.maxTokens = decodeTokens + 1
        for prompt in prompts { try llm.addRequest(promptTokenIds: prompt, params: p) }
        var started = Set<RequestID>(), generated = 0
        var t0 = Date()
        while llm.hasUnfinishedRequests {
            for out in try llm.step() {
                if started.insert(out.requestId).inserted {
                    if started.count == prompts.count { t0 = Date(); generated = 0 }
                } else {
                    generated += out.outputs.reduce(0) { $0 + $1.deltaTokenIds.count }
                }
            }
        }
        return Double(generated) / Date().timeIntervalSince(t0)
    }
}

/// The middle value (the mean of the two middle ones for an even count); 0 for none.
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}
