import Compute

/// Runs one sequence greedily: prefill the prompt, then one token per step. The reference the
/// batching engine is tested against (and what a model test needs without an engine); it uses
/// the same paged-attention path, with the sequence's blocks laid out in order.
public struct TextGenerator: Sendable {
    public let model: any CausalLanguageModel
    public let blockSize: Int

    public init(model: any CausalLanguageModel, blockSize: Int = 16) {
        self.model = model
        self.blockSize = blockSize
    }

    /// Logits for every position of `tokens` in one prefill: [tokens.count, vocab].
    public func promptLogits(_ tokens: [Int]) -> Tensor {
        let caches = model.makeKVCaches(numBlocks: blocks(for: tokens.count), blockSize: blockSize)
        return model.forward(batch(tokens, start: 0, allLogits: true), caches: caches)
    }

    /// Greedy ids after the prompt; stops after `maxTokens` or on a stop id.
    public func generate(prompt: [Int], maxTokens: Int, stopTokenIds: Set<Int> = []) -> [Int] {
        guard !prompt.isEmpty, maxTokens > 0 else { return [] }
        let caches = model.makeKVCaches(numBlocks: blocks(for: prompt.count + maxTokens), blockSize: blockSize)
        var logits = model.forward(batch(prompt, start: 0, allLogits: false), caches: caches)
        var generated: [Int] = []
        while true {
            let next = argmax(logits.row(0), logits.rowLength)
            generated.append(next)
            if generated.count >= maxTokens || stopTokenIds.contains(next) { break }
            logits = model.forward(batch([next], start: prompt.count + generated.count - 1, allLogits: false), caches: caches)
        }
        return generated
    }

    private func blocks(for tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    private func batch(_ tokens: [Int], start: Int, allLogits: Bool) -> ForwardBatch {
        let end = start + tokens.count
        let table = (0..<Int32(blocks(for: end))).map { $0 }
        return ForwardBatch(
            tokens: tokens, positions: Array(start..<end),
            sequences: [AttentionSequence(queryRows: 0..<tokens.count, firstPosition: start, blockTable: table)],
            slotMapping: (start..<end).map { Int32($0) },
            logitRows: allLogits ? Array(0..<tokens.count) : [tokens.count - 1])
    }
}

/// Index of the largest value; the first one on ties, as torch.argmax.
public func argmax(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Int {
    var best = 0
    for i in 1..<n where p[i] > p[best] { best = i }
    return best
}
