import Compute

/// Runs one sequence through a model: prefill the prompt, then one token per step.
/// The reference loop for tests and `shardline generate` until the batching engine drives it;
/// it uses the same paged-attention path, with the sequence's blocks laid out in order.
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

    /// Generated ids only. Stops after `maxTokens` or on a stop id. Greedy when temperature is 0.
    public func generate(
        prompt: [Int], maxTokens: Int, temperature: Float = 0, seed: UInt64 = 0, stopTokenIds: Set<Int> = []
    ) -> [Int] {
        guard !prompt.isEmpty, maxTokens > 0 else { return [] }
        let caches = model.makeKVCaches(numBlocks: blocks(for: prompt.count + maxTokens), blockSize: blockSize)
        var rng = SplitMix64(seed: seed)
        var logits = model.forward(batch(prompt, start: 0, allLogits: false), caches: caches)
        var generated: [Int] = []
        while true {
            let next = temperature == 0 ? argmax(logits.row(0), logits.rowLength)
                : sample(logits.row(0), logits.rowLength, temperature: temperature, rng: &rng)
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

private func sample(_ p: UnsafeMutablePointer<Float>, _ n: Int, temperature: Float, rng: inout SplitMix64) -> Int {
    let scaled = Tensor(shape: [1, n], values: (0..<n).map { p[$0] / temperature })
    softmaxRows(scaled)
    let u = Float(rng.next() >> 40) / Float(1 << 24)
    var acc: Float = 0
    for i in 0..<n {
        acc += scaled.data[i]
        if u < acc { return i }
    }
    return n - 1
}

/// Small, fast, seedable PRNG (Steele et al.), so a seed reproduces a sample on any machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
