import Foundation

/// One candidate's log-probability, for the `logprobs` of a response.
public struct TokenLogprob: Sendable, Equatable {
    public var tokenId: Int
    public var logprob: Float

    public init(tokenId: Int, logprob: Float) {
        self.tokenId = tokenId
        self.logprob = logprob
    }
}

/// The sampler's answer for one request at one step.
public struct SampledToken: Sendable, Equatable {
    public var tokenId: Int
    /// The chosen token's log-probability under the raw logits, when `params.logprobs` is set.
    public var logprob: Float?
    /// The `params.logprobs` most likely tokens under the raw logits, best first (ties: lower id).
    public var topLogprobs: [TokenLogprob]

    public init(tokenId: Int, logprob: Float? = nil, topLogprobs: [TokenLogprob] = []) {
        self.tokenId = tokenId
        self.logprob = logprob
        self.topLogprobs = topLogprobs
    }
}

/// What the sampler must know of one request: everything is passed in, nothing is remembered,
/// so a request samples the same whatever it is batched with or after a preemption.
public struct SamplingState: Sendable {
    public var params: SamplingParams
    public var promptTokenIds: [Int]
    public var outputTokenIds: [Int]
    public var eosTokenIds: Set<Int>
    /// `params.seed`, or the random seed the engine assigned at arrival
    /// (`SampleRandom.requestSeed(for:)`).
    public var seed: UInt64

    public init(params: SamplingParams, promptTokenIds: [Int] = [], outputTokenIds: [Int] = [],
                eosTokenIds: Set<Int> = [], seed: UInt64) {
        self.params = params
        self.promptTokenIds = promptTokenIds
        self.outputTokenIds = outputTokenIds
        self.eosTokenIds = eosTokenIds
        self.seed = seed
    }
}

/// Turns one row of vocabulary logits into one token, in vLLM v1's order: raw logprobs,
/// min_tokens mask, penalties, then greedy argmax, or temperature → min_p → top_k → top_p → draw.
///
/// Why no sort: the vocabulary is 262,144 wide. The random path writes e = exp((logit - max) / T)
/// (the probability relative to the best token) over the row once; min_p, top_k and top_p then
/// each keep a prefix of one ranking (larger e first, lower id first on ties), i.e. a cut key.
/// A cut is found with a histogram over the float bits of e (monotone in e) plus a sort of the
/// one bin where the cut falls; the draw is an inverse-CDF walk in id order over admitted tokens.
public struct Sampler: Sendable {
    public init() {}

    /// `logits` is one row of vocabulary logits; it is scratch: masks, penalties and, on the
    /// random path, the relative probabilities are written into it.
    public func sample(logits: UnsafeMutableBufferPointer<Float>, state: SamplingState) -> SampledToken {
        precondition(!logits.isEmpty, "empty logits row")
        let params = state.params
        let maskedIds = LogitsPenalties.minTokensMaskedIds(state)
        let penalize = LogitsPenalties.isActive(params)
        // vLLM v1's default `raw_logprobs`: log-softmax of the row before anything edits it.
        var raw: RawLogprobs?
        var rawRow: [Float]?
        if let n = params.logprobs {
            raw = RawLogprobs(UnsafeBufferPointer(logits), topN: max(0, n))
            if !maskedIds.isEmpty || penalize || !params.isGreedy { rawRow = Array(logits) }
        }
        LogitsPenalties.mask(logits, ids: maskedIds)
        if penalize {
            LogitsPenalties.apply(logits, repetition: params.repetitionPenalty,
                                  frequency: params.frequencyPenalty, presence: params.presencePenalty,
                                  promptTokenIds: state.promptTokenIds, outputTokenIds: state.outputTokenIds)
        }
        let token: Int
        if params.isGreedy {
            token = Self.argmax(UnsafeBufferPointer(logits))
        } else {
            let u = SampleRandom.uniform(seed: state.seed, step: state.outputTokenIds.count)
            token = Self.sampleRandom(logits, params: params, u: u)
        }
        guard let raw else { return SampledToken(tokenId: token) }
        let rawLogit = rawRow?[token] ?? logits[token]
        return SampledToken(tokenId: token, logprob: raw.logprob(rawLogit), topLogprobs: raw.top)
    }

    /// Greedy: one pass; the first index wins ties. Per-lane running maxima keep each lane's
    /// first occurrence, and the final reduction takes the lowest index among the best lanes.
    static func argmax(_ row: UnsafeBufferPointer<Float>) -> Int {
        var bestV = F8(repeating: -.infinity)
        var bestI = I8(repeating: 0)
        var i = 0
        while i < row.count {
            let v = chunk(row, i)
            let better = v .> bestV
            bestV.replace(with: v, where: better)
            bestI.replace(with: I8(0, 1, 2, 3, 4, 5, 6, 7) &+ Int32(truncatingIfNeeded: i), where: better)
            i += 8
        }
        let top = bestV.max()
        return Int(bestI.replacing(with: .max, where: bestV .!= top).min())
    }

    /// Temperature, min_p, top_k, top_p, then one draw with the uniform `u` in [0, 1).
    static func sampleRandom(_ logits: UnsafeMutableBufferPointer<Float>, params: SamplingParams, u: Double) -> Int {
        let row = UnsafeBufferPointer(logits)
        let m = rowMax(row)
        guard m.isFinite else { return argmax(row) }  // all masked, or an infinite logit
        exponentiate(logits, max: m, invT: 1 / params.temperature)
        // min_p keeps p >= min_p * p_max, i.e. e >= min_p.
        var key = RankKey(e: params.minP, id: .max)
        if params.topK > 0, params.topK < row.count {
            let k = Double(params.topK)
            key = cut(row, floor: key, mass: false) { _ in k }
        }
        if params.topP < 1 {
            let p = Double(params.topP)
            key = cut(row, floor: key, mass: true) { p * $0 }
        }
        return walk(row, key: key, target: u * admittedMass(row, key: key))
    }

    // MARK: - Cuts in the ranking

    /// A position in the ranking of relative probabilities; it admits every token at or above it.
    struct RankKey {
        var e: Float
        var id: Int

        /// Lanes (ids base..<base+8, relative probabilities `es`) the key admits, as a lane mask.
        /// Non-negative floats order like their bit patterns, so this is integer arithmetic;
        /// padding lanes (-inf) have negative bits and are never admitted.
        @inline(__always) func admits(_ es: F8, base: Int) -> I8 {
            let d = bits(es) &- Int32(bitPattern: e.bitPattern)
            let below = d &>> 31
            let tie = ((d &- 1) & ~d) &>> 31
            let ids = I8(0, 1, 2, 3, 4, 5, 6, 7) &+ Int32(truncatingIfNeeded: base)
            let after = (I8(repeating: Int32(clamping: id)) &- ids) &>> 31
            return ~(below | (tie & after))
        }
    }

    /// The smallest prefix of the tokens `floor` admits whose weight (1 per token, or e when
    /// `mass`) reaches `target(total weight)`, as the key of its last token. If the target is
    /// not below the total, nothing is cut.
    static func cut(_ row: UnsafeBufferPointer<Float>, floor: RankKey, mass: Bool,
                    target: (Double) -> Double) -> RankKey {
        // Bin = top bits of e (exponent + 5 mantissa bits): 32 bins per octave, larger e higher.
        let shift: Int32 = 18
        let binCount = 1 << (31 - Int(shift))
        var hist = [Float](repeating: 0, count: binCount)
        let one = F8(repeating: 1)
        hist.withUnsafeMutableBufferPointer { h in
            var i = 0
            while i < row.count {
                let e = chunk(row, i)
                let ok = floor.admits(e, base: i)
                if anyLane(ok) {
                    let w = keep(mass ? e : one, ok)
                    let b = bits(keep(e, ok)) &>> shift
                    for j in 0..<8 { h[Int(b[j])] += w[j] }
                }
                i += 8
            }
        }
        var total = 0.0
        for w in hist { total += Double(w) }
        let goal = target(total)
        guard goal < total else { return floor }
        var cum = 0.0
        var bin = binCount - 1
        while bin > 0, cum + Double(hist[bin]) < goal {
            cum += Double(hist[bin])
            bin -= 1
        }
        // Only the bin where the cut falls is gathered and sorted.
        var members: [(e: Float, id: Int)] = []
        let wanted = I8(repeating: Int32(bin))
        var i = 0
        while i < row.count {
            let e = chunk(row, i)
            let ok = floor.admits(e, base: i)
            let hit = ok & ((((bits(keep(e, ok)) &>> shift) ^ wanted) &- 1) &>> 31)
            if anyLane(hit) {
                for j in 0..<8 where hit[j] != 0 { members.append((e[j], i + j)) }
            }
            i += 8
        }
        members.sort { $0.e != $1.e ? $0.e > $1.e : $0.id < $1.id }
        guard var last = members.first else { return floor }
        for member in members {
            cum += mass ? Double(member.e) : 1
            last = member
            if cum >= goal { break }
        }
        return RankKey(e: last.e, id: last.id)
    }

    /// Tokens are visited in blocks of 64: vector sums per block, one horizontal sum per block.
    static let block = 64

    @inline(__always) static func blockMass(_ row: UnsafeBufferPointer<Float>, _ start: Int, _ key: RankKey) -> Float {
        var acc = F8()
        var i = start
        while i < min(start + block, row.count) {
            let e = chunk(row, i)
            acc += keep(e, key.admits(e, base: i))
            i += 8
        }
        return acc.sum()
    }

    /// Sum of e over the tokens `key` admits, accumulated exactly as `walk` accumulates it.
    static func admittedMass(_ row: UnsafeBufferPointer<Float>, key: RankKey) -> Double {
        var acc = 0.0
        var start = 0
        while start < row.count {
            acc += Double(blockMass(row, start, key))
            start += block
        }
        return acc
    }

    /// Inverse-CDF draw in id order: the first admitted token where the running mass exceeds
    /// `target`. Blocks are skipped by their sum; rounding past the end picks the last token
    /// with mass (the best token always has e = 1 and is always admitted, so there is one).
    static func walk(_ row: UnsafeBufferPointer<Float>, key: RankKey, target: Double) -> Int {
        var acc = 0.0
        var lastBlock = 0
        var start = 0
        while start < row.count {
            let s = Double(blockMass(row, start, key))
            if s > 0 { lastBlock = start }
            if acc + s > target {
                var lanes = acc
                for id in start..<min(start + block, row.count) where admitted(row, id, key) {
                    lanes += Double(row[id])
                    if lanes > target { return id }
                }
            }
            acc += s
            start += block
        }
        let ids = lastBlock..<min(lastBlock + block, row.count)
        return ids.last { admitted(row, $0, key) } ?? argmax(row)
    }

    @inline(__always) static func admitted(_ row: UnsafeBufferPointer<Float>, _ id: Int, _ key: RankKey) -> Bool {
        let e = row[id]
        return e > 0 && (e > key.e || (e == key.e && id <= key.id))
    }
}

// MARK: - Raw log-probabilities

/// Log-softmax of the unmodified row: the shift and log-normaliser, plus the top N.
struct RawLogprobs {
    var shift: Float
    var logSum: Float
    var top: [TokenLogprob] = []

    init(_ row: UnsafeBufferPointer<Float>, topN: Int) {
        let m = rowMax(row)
        shift = m.isFinite ? m : 0
        var sum = 0.0
        var start = 0
        while start < row.count {
            var acc = F8()
            var i = start
            while i < min(start + 4096, row.count) {
                acc += exp8(chunk(row, i) - shift)
                i += 8
            }
            sum += Double(acc.sum())
            start += 4096
        }
        logSum = Float(log(sum))
        guard topN > 0 else { return }
        // Best first; a strict `>` against the worst kept keeps the lower id on ties, because
        // ids arrive in increasing order. A vector test skips chunks with nothing better.
        var best: [(v: Float, id: Int)] = []
        best.reserveCapacity(topN + 1)
        var i = 0
        while i < row.count {
            let worst = best.count < topN ? -Float.infinity : best[best.count - 1].v
            if anyLane(less(F8(repeating: worst), chunk(row, i))) || worst == -.infinity {
                for id in i..<min(i + 8, row.count) {
                    let v = row[id]
                    guard !v.isNaN, best.count < topN || v > best[best.count - 1].v else { continue }
                    let at = best.firstIndex { v > $0.v } ?? best.count
                    best.insert((v, id), at: at)
                    if best.count > topN { best.removeLast() }
                }
            }
            i += 8
        }
        top = best.map { TokenLogprob(tokenId: $0.id, logprob: logprob($0.v)) }
    }

    func logprob(_ rawLogit: Float) -> Float { (rawLogit - shift) - logSum }
}

// MARK: - Row kernels

typealias F8 = SIMD8<Float>
typealias I8 = SIMD8<Int32>

// Lane masks are I8 with every bit set for "true". Swift's SIMDMask comparisons lowered to
// per-lane scalar code in these loops (4x slower); sign-bit arithmetic stays in vector registers.
@inline(__always) func bits(_ v: F8) -> I8 { unsafeBitCast(v, to: I8.self) }
@inline(__always) func floats(_ v: I8) -> F8 { unsafeBitCast(v, to: F8.self) }
/// a < b lane-wise, for non-NaN lanes: the sign of a - b, which is zero only when a == b.
@inline(__always) func less(_ a: F8, _ b: F8) -> I8 { bits(a - b) &>> 31 }
/// `v` where `mask` is set, +0 elsewhere.
@inline(__always) func keep(_ v: F8, _ mask: I8) -> F8 { floats(bits(v) & mask) }
@inline(__always) func anyLane(_ mask: I8) -> Bool {
    let q = mask.lowHalf | mask.highHalf
    return (q[0] | q[1] | q[2] | q[3]) != 0
}

/// Eight values from `i`; lanes past the end read -inf, which every pass treats as "no token".
@inline(__always) func chunk(_ row: UnsafeBufferPointer<Float>, _ i: Int) -> F8 {
    if i + 8 <= row.count { return UnsafeRawPointer(row.baseAddress! + i).loadUnaligned(as: F8.self) }
    var v = F8(repeating: -.infinity)
    for j in 0..<(row.count - i) { v[j] = row[i + j] }
    return v
}

/// The row's maximum (NaN lanes are not picked unless everything is NaN).
func rowMax(_ row: UnsafeBufferPointer<Float>) -> Float {
    var hi = F8(repeating: -.infinity)
    var i = 0
    while i < row.count {
        let v = chunk(row, i)
        let up = less(hi, v)
        hi = floats((bits(v) & up) | (bits(hi) & ~up))
        i += 8
    }
    return hi.max()
}

/// Overwrites each logit l with exp((l - max) * invT) in [0, 1]; -inf and NaN logits become 0.
func exponentiate(_ logits: UnsafeMutableBufferPointer<Float>, max m: Float, invT: Float) {
    let row = UnsafeBufferPointer(logits)
    let out = UnsafeMutableRawPointer(logits.baseAddress!)
    var i = 0
    while i < row.count {
        let e = exp8((chunk(row, i) - m) * invT)
        let nan = (I8(repeating: 0x7F80_0000) &- (bits(e) & 0x7FFF_FFFF)) &>> 31
        let clean = keep(e, ~nan)
        if i + 8 <= row.count {
            (out + 4 * i).storeBytes(of: clean, as: F8.self)
        } else {
            for j in 0..<(row.count - i) { logits[i + j] = clean[j] }
        }
        i += 8
    }
}

/// e^x for x <= 0 (Cephes expf polynomial, ~1 ulp); x < -87 (and -inf) gives 0. libm's expf is
/// scalar and would make one 262k pass cost milliseconds.
@inline(__always) func exp8(_ x: F8) -> F8 {
    let floorX = F8(repeating: -87)
    let tiny = less(x, floorX)
    let xc = floats((bits(x) & ~tiny) | (bits(floorX) & tiny))
    let t = xc * 1.442_695_04 + 0x1.8p23  // round(x / ln 2) in the low mantissa bits
    let n = t - 0x1.8p23
    let r = (xc - n * 0.693_359_375) - n * -2.121_944_40e-4
    var y = F8(repeating: 1.987_569_150_0e-4)
    y = y * r + 1.398_199_950_7e-3
    y = y * r + 8.333_451_907_3e-3
    y = y * r + 4.166_579_589_4e-2
    y = y * r + 1.666_666_545_9e-1
    y = y * r + 5.000_000_120_1e-1
    y = y * (r * r) + r + 1
    let scale = (bits(t) &- 0x4B40_0000 &+ 127) &<< 23
    return keep(y * floats(scale), ~tiny)
}
