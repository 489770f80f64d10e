import Foundation
import Testing
@testable import Engine

// MARK: - Helpers

/// Samples a copy of `logits` (the sampler uses its row as scratch).
private func draw(_ logits: [Float], _ state: SamplingState) -> SampledToken {
    var row = logits
    return row.withUnsafeMutableBufferPointer { Sampler().sample(logits: $0, state: state) }
}

private func params(_ configure: (inout SamplingParams) -> Void) -> SamplingParams {
    var p = SamplingParams()
    configure(&p)
    return p
}

private func randomRow(_ count: Int, seed: UInt64, scale: Float = 4) -> [Float] {
    var g = SplitMix64(seed: seed)
    return (0..<count).map { _ in (Float(g.next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
}

/// First index of the maximum.
private func referenceArgmax(_ row: [Float]) -> Int {
    var best = 0
    for i in row.indices where row[i] > row[best] { best = i }
    return best
}

private func logSoftmax(_ row: [Float]) -> [Double] {
    let m = Double(row.max()!)
    let logSum = log(row.reduce(0.0) { $0 + exp(Double($1) - m) })
    return row.map { Double($0) - m - logSum }
}

private func softmax(_ row: [Float], temperature: Double = 1) -> [Double] {
    let m = Double(row.max()!)
    let e = row.map { exp((Double($0) - m) / temperature) }
    let z = e.reduce(0, +)
    return e.map { $0 / z }
}

/// Token counts over `draws` requests with seeds 0..<draws (step 0, no penalties).
private func histogram(_ logits: [Float], _ p: SamplingParams, draws: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: logits.count)
    for seed in 0..<UInt64(draws) {
        counts[draw(logits, SamplingState(params: p, seed: seed)).tokenId] += 1
    }
    return counts
}

// MARK: - Greedy

@Test func greedyIsArgmaxWithFirstIndexOnTies() {
    for (n, seed) in [(1, 1), (7, 2), (8, 3), (1000, 4), (4099, 5)] as [(Int, UInt64)] {
        let row = randomRow(n, seed: seed)
        #expect(draw(row, SamplingState(params: .greedy, seed: 0)).tokenId == referenceArgmax(row))
    }
    #expect(draw([1, 5, 5, 2, 5], SamplingState(params: .greedy, seed: 0)).tokenId == 1)
    #expect(draw([0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9], SamplingState(params: .greedy, seed: 0)).tokenId == 9)
    #expect(draw([-.infinity, -3, -.infinity], SamplingState(params: .greedy, seed: 0)).tokenId == 1)
}

@Test func argmaxSkipsNaNsAndKeepsTheFirstOfEqualValues() {
    func argmax(_ row: [Float]) -> Int { row.withUnsafeBufferPointer { Sampler.argmax($0) } }
    // Past the vector body (32 wide) and into the tail, on either side of a lane boundary.
    var row = [Float](repeating: -1, count: 77)
    row[40] = 3; row[70] = 3
    #expect(argmax(row) == 40)
    row[5] = .nan; row[76] = 4
    #expect(argmax(row) == 76)
    #expect(argmax([.nan, -.infinity, .nan, -.infinity]) == 1)
    #expect(argmax([.nan, .nan, .nan]) == 0)
    #expect(argmax([-.infinity, -.infinity]) == 0)
    var zeros = [Float](repeating: -1, count: 40)
    zeros[9] = -0.0; zeros[33] = 0
    #expect(argmax(zeros) == 9)
}

@Test func topK1WithTemperatureOneEqualsGreedy() {
    let p = params { $0.temperature = 1; $0.topK = 1 }
    for seed in 0..<40 as Range<UInt64> {
        let row = randomRow(1003, seed: seed, scale: 0.5)
        let state = SamplingState(params: p, outputTokenIds: Array(repeating: 0, count: Int(seed)), seed: seed)
        #expect(draw(row, state).tokenId == referenceArgmax(row))
    }
}

// MARK: - Reproducibility

@Test func sameSeedAndStepGiveTheSameToken() {
    let row = randomRow(500, seed: 11, scale: 0.2)  // nearly flat: every draw really is random
    let state = SamplingState(params: SamplingParams(), outputTokenIds: [1, 2, 3], seed: 42)
    let first = draw(row, state).tokenId
    for _ in 0..<100 { #expect(draw(row, state).tokenId == first) }
}

@Test func differentStepsAndSeedsGiveDifferentTokens() {
    let row = randomRow(500, seed: 11, scale: 0.2)
    let bySteps = (0..<50).map { step in
        draw(row, SamplingState(params: SamplingParams(), outputTokenIds: Array(repeating: 0, count: step), seed: 42)).tokenId
    }
    #expect(Set(bySteps).count > 25)
    let bySeeds = (0..<50 as Range<UInt64>).map { seed in
        draw(row, SamplingState(params: SamplingParams(), seed: seed)).tokenId
    }
    #expect(Set(bySeeds).count > 25)
}

@Test func seededRequestIsIndependentOfInterleavedRequests() {
    let vocab = 300
    let pa = params { $0.temperature = 0.9; $0.topP = 0.95; $0.seed = 1234 }
    let pb = params { $0.temperature = 1.3; $0.topK = 20 }
    /// A request's step: its logits depend on its own history (like a model's would).
    func logits(_ history: [Int], salt: UInt64) -> [Float] {
        randomRow(vocab, seed: salt &+ UInt64(history.count) &* 31 &+ UInt64(history.last ?? 0), scale: 1)
    }
    func step(_ history: inout [Int], _ p: SamplingParams, seed: UInt64, salt: UInt64) {
        let state = SamplingState(params: p, promptTokenIds: [1, 2], outputTokenIds: history, seed: seed)
        history.append(draw(logits(history, salt: salt), state).tokenId)
    }
    var alone: [Int] = []
    for _ in 0..<40 { step(&alone, pa, seed: 1234, salt: 7) }

    var a: [Int] = [], b: [Int] = [], c: [Int] = []
    for i in 0..<40 {
        step(&b, pb, seed: 555, salt: 8)
        if i % 3 == 0 { step(&c, pa, seed: 99, salt: 9) }
        step(&a, pa, seed: 1234, salt: 7)
        step(&b, pb, seed: 555, salt: 8)
    }
    #expect(a == alone)
    #expect(Set(alone).count > 5)  // the sequence is random, not a constant
}

@Test func stepUniformsAreDeterministicAndInRange() {
    var seen = Set<Double>()
    for step in 0..<1000 {
        let u = SampleRandom.uniform(seed: 5, step: step)
        #expect(u >= 0 && u < 1)
        #expect(u == SampleRandom.uniform(seed: 5, step: step))
        seen.insert(u)
    }
    #expect(seen.count == 1000)
    #expect(SampleRandom.requestSeed(for: params { $0.seed = 77 }) == 77)
}

// MARK: - Distribution and truncation

@Test func empiricalFrequenciesMatchTemperatureSoftmax() {
    let logits: [Float] = [1.0, 2.0, 0.5]
    let steps = 20_000
    for t in [0.7, 1.0, 1.5] {
        let counts = histogram(logits, params { $0.temperature = Float(t) }, draws: steps)
        let expected = softmax(logits, temperature: t)
        for i in 0..<3 {
            // 4.5 standard deviations of a binomial proportion at n = 20,000 is below 0.016.
            #expect(abs(Double(counts[i]) / Double(steps) - expected[i]) < 0.016, "T=\(t) token \(i)")
        }
    }
    // One seeded request over its steps (the per-step derivation) follows the same distribution.
    var history: [Int] = []
    var counts = [0, 0, 0]
    for _ in 0..<5000 {
        let token = draw(logits, SamplingState(params: SamplingParams(), outputTokenIds: history, seed: 77)).tokenId
        counts[token] += 1
        history.append(token)
    }
    let expected = softmax(logits)
    for i in 0..<3 { #expect(abs(Double(counts[i]) / 5000 - expected[i]) < 0.03) }
}

@Test func topKTopPMinPExcludeExactlyTheirTokens() {
    // Probabilities 0.5, 0.3, 0.15, 0.05 at T = 1.
    let logits = [0.5, 0.3, 0.15, 0.05].map { Float(log($0)) }
    let steps = 4000
    func kept(_ configure: (inout SamplingParams) -> Void) -> [Int] {
        let counts = histogram(logits, params(configure), draws: steps)
        return counts.indices.filter { counts[$0] > 0 }
    }
    #expect(kept { $0.topK = 2 } == [0, 1])
    #expect(kept { $0.topK = 3 } == [0, 1, 2])
    #expect(kept { $0.topP = 0.7 } == [0, 1])        // 0.5 < 0.7 <= 0.8
    #expect(kept { $0.topP = 0.85 } == [0, 1, 2])    // 0.8 < 0.85 <= 0.95
    #expect(kept { $0.topP = 0.4 } == [0])
    #expect(kept { $0.minP = 0.35 } == [0, 1])       // p / p_max = 1, 0.6, 0.3, 0.1
    #expect(kept { $0.minP = 0.25 } == [0, 1, 2])
    #expect(kept { $0.minP = 0.25; $0.topP = 0.7 } == [0, 1])
    // Renormalised over what is kept: top_k = 2 gives 0.5 / 0.8 and 0.3 / 0.8.
    let counts = histogram(logits, params { $0.topK = 2 }, draws: steps)
    #expect(abs(Double(counts[0]) / Double(steps) - 0.625) < 0.03)
}

/// The cut keys equal a full-sort reference on wide rows, where the histogram has many bins.
@Test func cutsMatchFullSortReference() {
    for seed in 0..<12 as Range<UInt64> {
        let n = 5000 + Int(seed) * 37
        var row = randomRow(n, seed: seed, scale: seed % 2 == 0 ? 6 : 1)
        row[17] = row[3]  // a tie, so ids break it
        let t: Float = 0.8
        let m = row.max()!
        var e = row
        e.withUnsafeMutableBufferPointer { exponentiate($0, max: m, invT: 1 / t) }
        // Reference ranking: larger e first, lower id first.
        let order = e.indices.sorted { e[$0] != e[$1] ? e[$0] > e[$1] : $0 < $1 }
        func admittedSet(_ key: Sampler.RankKey) -> Set<Int> {
            Set(e.indices.filter { e[$0] > key.e || (e[$0] == key.e && $0 <= key.id) })
        }
        let k = 1 + Int(seed) * 13
        let topK = e.withUnsafeBufferPointer {
            Sampler.cut($0, floor: Sampler.RankKey(e: 0, id: .max), mass: false) { _ in Double(k) }
        }
        #expect(admittedSet(topK) == Set(order.prefix(k)))

        let p = [0.1, 0.5, 0.9, 0.99][Int(seed) % 4]
        let topP = e.withUnsafeBufferPointer {
            Sampler.cut($0, floor: Sampler.RankKey(e: 0, id: .max), mass: true) { p * $0 }
        }
        let total = e.reduce(0.0) { $0 + Double($1) }
        var cum = 0.0, count = 0
        for id in order where cum < p * total { cum += Double(e[id]); count += 1 }
        #expect(admittedSet(topP) == Set(order.prefix(count)), "seed \(seed) p \(p)")
    }
}

@Test func wideRowSamplesStayInsideTopP() {
    let row = randomRow(20_000, seed: 3, scale: 5)
    let p = params { $0.temperature = 0.8; $0.topP = 0.6 }
    let probs = softmax(row, temperature: 0.8)
    let order = probs.indices.sorted { probs[$0] > probs[$1] }
    var cum = 0.0
    var allowed = Set<Int>()
    for id in order where cum < 0.6 { cum += probs[id]; allowed.insert(id) }
    let counts = histogram(row, p, draws: 1500)
    for id in counts.indices where counts[id] > 0 { #expect(allowed.contains(id)) }
}

// MARK: - Penalties and min_tokens

@Test func repetitionPenaltyDividesPositiveAndMultipliesNegative() {
    var row: [Float] = [2, -2, 1, 0.5, -1, 0]
    row.withUnsafeMutableBufferPointer {
        LogitsPenalties.apply($0, repetition: 2, frequency: 0, presence: 0,
                              promptTokenIds: [0, 1, 5, 0], outputTokenIds: [1, 4, 4, 99])
    }
    #expect(row == [1, -4, 1, 0.5, -2, 0])  // each seen token once; unseen 2, 3 untouched
}

@Test func frequencyAndPresencePenaltiesUseOutputCounts() {
    var freq: [Float] = [1, 1, 1, 1]
    freq.withUnsafeMutableBufferPointer {
        LogitsPenalties.apply($0, repetition: 1, frequency: 0.5, presence: 0,
                              promptTokenIds: [3, 3], outputTokenIds: [0, 2, 2, 2])
    }
    #expect(freq == [0.5, 1, -0.5, 1])  // prompt tokens do not count
    var pres: [Float] = [1, 1, 1, 1]
    pres.withUnsafeMutableBufferPointer {
        LogitsPenalties.apply($0, repetition: 1, frequency: 0, presence: 0.25,
                              promptTokenIds: [3], outputTokenIds: [0, 2, 2, 2])
    }
    #expect(pres == [0.75, 1, 0.75, 1])
    var all: [Float] = [2, -2, 1, 0.5, -1]
    all.withUnsafeMutableBufferPointer {
        LogitsPenalties.apply($0, repetition: 2, frequency: 0.5, presence: 0.25,
                              promptTokenIds: [0, 1], outputTokenIds: [1, 2, 2])
    }
    #expect(all == [1, -4.75, -0.75, 0.5, -1])  // repetition first, then frequency, presence
}

@Test func penaltiesChangeTheGreedyChoice() {
    let logits: [Float] = [3, 2.9, 1]
    let state = SamplingState(params: params { $0.temperature = 0; $0.presencePenalty = 0.5 },
                              outputTokenIds: [0], seed: 0)
    #expect(draw(logits, state).tokenId == 1)
    var rep = state
    rep.params = params { $0.temperature = 0; $0.repetitionPenalty = 1.5 }
    rep.outputTokenIds = []
    rep.promptTokenIds = [0]
    #expect(draw(logits, rep).tokenId == 1)  // 3 / 1.5 = 2 < 2.9
}

/// The model's argmax (`ForwardOutput.argmax`) is greedy's token when nothing edits the row: the
/// row is not scanned again (a hint that disagrees with the row shows which was used). With a
/// penalty or a min_tokens mask the row changes, and the hint is ignored.
@Test func greedyTakesTheModelsArgmaxOnlyForAnUneditedRow() {
    let logits: [Float] = [3, 2.9, 1]
    func drawWithHint(_ state: SamplingState, _ hint: Int) -> Int {
        var row = logits
        return row.withUnsafeMutableBufferPointer { Sampler().sample(logits: $0, state: state, argmax: hint).tokenId }
    }
    let greedy = SamplingState(params: params { $0.temperature = 0 }, seed: 0)
    #expect(drawWithHint(greedy, 0) == 0)
    #expect(drawWithHint(greedy, 2) == 2)
    let penalized = SamplingState(params: params { $0.temperature = 0; $0.presencePenalty = 0.5 }, outputTokenIds: [0], seed: 0)
    #expect(drawWithHint(penalized, 0) == 1)
    let masked = SamplingState(params: params { $0.temperature = 0; $0.minTokens = 1 }, eosTokenIds: [0], seed: 0)
    #expect(drawWithHint(masked, 0) == 1)
    let sampled = SamplingState(params: params { $0.temperature = 1e-4 }, seed: 0)
    #expect(drawWithHint(sampled, 2) == 0)  // only greedy trusts the hint
}

@Test func minTokensMasksEOSAndStopIdsUntilReached() {
    let p = params { $0.minTokens = 2; $0.stopTokenIds = [3] }
    func state(_ produced: Int, _ p: SamplingParams) -> SamplingState {
        SamplingState(params: p, outputTokenIds: Array(repeating: 0, count: produced), eosTokenIds: [2, 4], seed: 1)
    }
    #expect(Set(LogitsPenalties.minTokensMaskedIds(state(0, p))) == [2, 3, 4])
    #expect(Set(LogitsPenalties.minTokensMaskedIds(state(1, p))) == [2, 3, 4])
    #expect(LogitsPenalties.minTokensMaskedIds(state(2, p)).isEmpty)
    var ignoring = p
    ignoring.ignoreEOS = true
    #expect(LogitsPenalties.minTokensMaskedIds(state(1, ignoring)) == [3])

    // Through the sampler: EOS (2) and stop (3) lead the logits.
    let logits: [Float] = [0, 1, 9, 8, 7]
    var greedy = p
    greedy.temperature = 0
    #expect(draw(logits, state(1, greedy)).tokenId == 1)
    #expect(draw(logits, state(2, greedy)).tokenId == 2)
    greedy.ignoreEOS = true
    #expect(draw(logits, state(0, greedy)).tokenId == 2)  // EOS unmasked, stop id 3 still masked
    var masked = logits
    masked[2] = -1
    #expect(draw(masked, state(0, greedy)).tokenId == 4)
}

@Test func randomSamplingNeverDrawsMaskedIdsBeforeMinTokens() {
    let logits: [Float] = [0, 1, 9, 8, 7]
    let p = params { $0.minTokens = 1000; $0.stopTokenIds = [3] }
    var counts = [Int](repeating: 0, count: 5)
    for step in 0..<300 {
        let s = SamplingState(params: p, outputTokenIds: Array(repeating: 0, count: step), eosTokenIds: [2], seed: 3)
        counts[draw(logits, s).tokenId] += 1
    }
    #expect(counts[2] == 0 && counts[3] == 0)
    #expect(counts[4] > 200)
}

// MARK: - Logprobs

@Test func logprobsAreRawLogSoftmaxWhateverTheSamplingDid() {
    let row = randomRow(777, seed: 21, scale: 3)
    let reference = logSoftmax(row)
    let p = params {
        $0.temperature = 0.6; $0.topK = 50; $0.repetitionPenalty = 1.3; $0.frequencyPenalty = 0.4
        $0.presencePenalty = 0.2; $0.logprobs = 5
    }
    for step in 0..<20 {
        let state = SamplingState(params: p, promptTokenIds: [1, 2, 3], outputTokenIds: Array(0..<step),
                                  eosTokenIds: [9], seed: 8)
        let out = draw(row, state)
        #expect(abs(Double(out.logprob!) - reference[out.tokenId]) < 1e-4)
        let expectedTop = row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }.prefix(5)
        #expect(out.topLogprobs.map(\.tokenId) == Array(expectedTop))
        for t in out.topLogprobs { #expect(abs(Double(t.logprob) - reference[t.tokenId]) < 1e-4) }
    }
    // Greedy with penalties: still the raw logits' logprob.
    let greedy = params { $0.temperature = 0; $0.presencePenalty = 2; $0.logprobs = 0 }
    let out = draw([3, 2.9, 1], SamplingState(params: greedy, outputTokenIds: [0], seed: 0))
    #expect(out.tokenId == 1)
    #expect(abs(Double(out.logprob!) - logSoftmax([3, 2.9, 1])[1]) < 1e-5)
}

@Test func topLogprobsOrderTiesAndCounts() {
    let row: [Float] = [1, 3, 3, 2, 3, -1]
    let three = draw(row, SamplingState(params: params { $0.temperature = 0; $0.logprobs = 4 }, seed: 0))
    #expect(three.topLogprobs.map(\.tokenId) == [1, 2, 4, 3])
    #expect(three.topLogprobs.map(\.logprob) == three.topLogprobs.map(\.logprob).sorted(by: >))
    let zero = draw(row, SamplingState(params: params { $0.temperature = 0; $0.logprobs = 0 }, seed: 0))
    #expect(zero.topLogprobs.isEmpty)
    #expect(zero.logprob != nil)
    #expect(abs(Double(zero.logprob!) - logSoftmax(row)[1]) < 1e-5)
    let none = draw(row, SamplingState(params: .greedy, seed: 0))
    #expect(none.logprob == nil && none.topLogprobs.isEmpty)
    let masked = draw([-.infinity, 0, -.infinity, 0], SamplingState(params: params { $0.temperature = 0; $0.logprobs = 3 }, seed: 0))
    #expect(masked.topLogprobs.prefix(2).map(\.tokenId) == [1, 3])
    #expect(abs(Double(masked.logprob!) - log(0.5)) < 1e-5)
}

// MARK: - Timing note (prints only; the number in a debug build is far above release)

@Test func timingOfOneTopPSampleOnFullVocab() {
    let row = randomRow(262_144, seed: 1, scale: 8)
    let p = params { $0.temperature = 0.8; $0.topP = 0.9 }
    let clock = ContinuousClock()
    var best = Duration.seconds(60)
    for step in 0..<5 {
        var copy = row
        let state = SamplingState(params: p, outputTokenIds: Array(repeating: 0, count: step), seed: 1)
        let t = clock.measure { _ = copy.withUnsafeMutableBufferPointer { Sampler().sample(logits: $0, state: state) } }
        best = min(best, t)
    }
    print("Sampler: one T=0.8 top_p=0.9 sample over 262,144 logits: best of 5 = \(best)")
}
