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
/// Why no sort: the vocabulary is 262,144 wide. min_p, top_k and top_p all keep a prefix of the
/// same ranking (higher logit first, lower id first on ties), so each is a cut key in that
/// ranking. Cuts are found with one histogram pass over the scaled logits plus a sort of the
/// single histogram bin where the cut falls; the draw is then a walk in id order over the tokens
/// the final key admits. Exponentials are a vectorised polynomial, never stored.
public struct Sampler: Sendable {
    public init() {}

    /// `logits` is one row of vocabulary logits; it is used as scratch (masks and penalties are
    /// written into it).
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
            if !maskedIds.isEmpty || penalize { rawRow = Array(logits) }
        }
        LogitsPenalties.mask(logits, ids: maskedIds)
        if penalize {
            LogitsPenalties.apply(logits, repetition: params.repetitionPenalty,
                                  frequency: params.frequencyPenalty, presence: params.presencePenalty,
                                  promptTokenIds: state.promptTokenIds, outputTokenIds: state.outputTokenIds)
        }
        let row = UnsafeBufferPointer(logits)
        let token: Int
        if params.isGreedy {
            token = Self.argmax(row)
        } else {
            let u = SampleRandom.uniform(seed: state.seed, step: state.outputTokenIds.count)
            token = Self.sampleRandom(row, params: params, u: u)
        }
        guard let raw else { return SampledToken(tokenId: token) }
        let rawLogit = rawRow?[token] ?? row[token]
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
    static func sampleRandom(_ row: UnsafeBufferPointer<Float>, params: SamplingParams, u: Double) -> Int {
        let (m, finiteMin) = maxAndFiniteMin(row)
        guard m.isFinite else { return argmax(row) }  // everything masked: nothing to draw from
        let invT = 1 / params.temperature
        // z = (logit - max) / T; the softmax probability relative to the best token is e^z.
        // min_p keeps p >= min_p * p_max, i.e. z >= ln(min_p).
        var key = RankKey.all
        if params.minP > 0 { key.z = log(params.minP) }
        let zLowest = (finiteMin - m) * invT
        if params.topK > 0, params.topK < row.count {
            let k = Double(params.topK)
            key = cut(row, m: m, invT: invT, floor: key, span: -max(zLowest, key.z), mass: false) { _ in k }.key
        }
        let kept: Double
        if params.topP < 1 {
            // Mass below e^-88 is zero in Float; a tighter span gives finer bins where it matters.
            let span = min(-max(zLowest, key.z), 88)
            let p = Double(params.topP)
            let c = cut(row, m: m, invT: invT, floor: key, span: span, mass: true) { p * $0 }
            key = c.key
            kept = c.kept
        } else {
            kept = admittedMass(row, m: m, invT: invT, key: key)
        }
        return walk(row, m: m, invT: invT, key: key, target: u * kept)
    }

    // MARK: - Cuts in the ranking

    /// A position in the ranking; it admits every token ranked at or above it.
    struct RankKey {
        var z: Float
        var id: Int
        static let all = RankKey(z: -.greatestFiniteMagnitude, id: .max)

        /// Lanes (ids base..<base+8 with scaled logits `zs`) the key admits, as a lane mask.
        @inline(__always) func admits(_ zs: F8, base: Int) -> I8 {
            let d = bits(zs - F8(repeating: z))  // zero only when equal, negative when below
            let below = d &>> 31
            let tie = ((d & 0x7FFF_FFFF) &- 1) &>> 31
            let ids = I8(0, 1, 2, 3, 4, 5, 6, 7) &+ Int32(truncatingIfNeeded: base)
            let after = (I8(repeating: Int32(clamping: id)) &- ids) &>> 31
            return ~(below | (tie & after))
        }
    }

    /// The smallest prefix of the tokens `floor` admits whose weight (1 per token, or e^z when
    /// `mass`) reaches `target(total)`, as the key of its last token, with the prefix's weight.
    /// If the target is not below the total, nothing is cut.
    static func cut(_ row: UnsafeBufferPointer<Float>, m: Float, invT: Float, floor: RankKey,
                    span: Float, mass: Bool, target: (Double) -> Double) -> (key: RankKey, kept: Double) {
        let binCount = 2048
        let scale: Float = span > 0 ? Float(binCount) / span : 0
        let top = F8(repeating: Float(binCount - 1))
        @inline(__always) func bins(_ z: F8, _ ok: I8) -> I8 {
            // Bin = round(-z * scale), clamped: monotone in z, which is all the cut needs.
            var b = keep(-z * scale, ok)  // unadmitted lanes (-inf, NaN) go to bin 0 with no weight
            b = keep(b, ~less(b, .zero))
            let over = less(top, b)
            b = floats((bits(b) & ~over) | (bits(top) & over))
            return bits(b + 0x1p23) &- 0x4B00_0000  // float → int, no trap
        }
        var hist = [Double](repeating: 0, count: binCount)
        hist.withUnsafeMutableBufferPointer { h in
            var i = 0
            while i < row.count {
                let z = (chunk(row, i) - m) * invT
                let ok = floor.admits(z, base: i)
                if anyLane(ok) {
                    let w = keep(mass ? exp8(z) : F8(repeating: 1), ok)
                    let b = bins(z, ok)
                    for j in 0..<8 { h[Int(b[j])] += Double(w[j]) }
                }
                i += 8
            }
        }
        let total = hist.reduce(0, +)
        let goal = target(total)
        guard goal < total else { return (floor, total) }
        var cum = 0.0
        var bin = 0
        while bin < binCount - 1, cum + hist[bin] < goal {
            cum += hist[bin]
            bin += 1
        }
        // Only the bin where the cut falls is gathered and sorted.
        var members: [(z: Float, id: Int, w: Float)] = []
        let target32 = Int32(bin)
        var i = 0
        while i < row.count {
            let z = (chunk(row, i) - m) * invT
            let ok = floor.admits(z, base: i)
            let hit = ok & (((bins(z, ok) ^ target32) &- 1) &>> 31)
            if anyLane(hit) {
                let w = mass ? exp8(z) : F8(repeating: 1)
                for j in 0..<8 where hit[j] != 0 { members.append((z[j], i + j, w[j])) }
            }
            i += 8
        }
        members.sort { $0.z != $1.z ? $0.z > $1.z : $0.id < $1.id }
        guard var last = members.first else { return (floor, total) }
        for member in members {
            cum += Double(member.w)
            last = member
            if cum >= goal { break }
        }
        return (RankKey(z: last.z, id: last.id), cum)
    }

    /// Sum of e^z over the tokens `key` admits, accumulated exactly as `walk` accumulates it.
    static func admittedMass(_ row: UnsafeBufferPointer<Float>, m: Float, invT: Float, key: RankKey) -> Double {
        var acc = 0.0
        var i = 0
        while i < row.count {
            let z = (chunk(row, i) - m) * invT
            let ok = key.admits(z, base: i)
            if anyLane(ok) { acc += Double(keep(exp8(z), ok).sum()) }
            i += 8
        }
        return acc
    }

    /// Inverse-CDF draw in id order: the first admitted token where the running mass exceeds
    /// `target`. Whole chunks are skipped by their sum; rounding past the end picks the last
    /// token with mass.
    static func walk(_ row: UnsafeBufferPointer<Float>, m: Float, invT: Float, key: RankKey, target: Double) -> Int {
        var acc = 0.0
        var lastChunk = -1
        var i = 0
        while i < row.count {
            let z = (chunk(row, i) - m) * invT
            let ok = key.admits(z, base: i)
            if anyLane(ok) {
                let e = keep(exp8(z), ok)
                let s = Double(e.sum())
                if s > 0 { lastChunk = i }
                if acc + s <= target {
                    acc += s
                } else {
                    for j in 0..<8 where e[j] > 0 {
                        acc += Double(e[j])
                        if acc > target { return i + j }
                    }
                }
            }
            i += 8
        }
        guard lastChunk >= 0 else { return argmax(row) }
        let z = (chunk(row, lastChunk) - m) * invT
        let e = keep(exp8(z), key.admits(z, base: lastChunk))
        return lastChunk + (0..<8).last { e[$0] > 0 }!
    }
}

// MARK: - Raw log-probabilities

/// Log-softmax of the unmodified row: the shift and log-normaliser, plus the top N.
struct RawLogprobs {
    var shift: Float
    var logSum: Float
    var top: [TokenLogprob] = []

    init(_ row: UnsafeBufferPointer<Float>, topN: Int) {
        let m = maxAndFiniteMin(row).max
        shift = m.isFinite ? m : 0
        var sum = 0.0
        var i = 0
        while i < row.count {
            sum += Double(exp8(chunk(row, i) - shift).sum())
            i += 8
        }
        logSum = Float(log(sum))
        guard topN > 0 else { return }
        // Best first; a strict `>` against the worst kept keeps the lower id on ties,
        // because ids arrive in increasing order.
        var best: [(v: Float, id: Int)] = []
        best.reserveCapacity(topN + 1)
        for id in 0..<row.count {
            let v = row[id]
            guard !v.isNaN, best.count < topN || v > best[best.count - 1].v else { continue }
            let at = best.firstIndex { v > $0.v } ?? best.count
            best.insert((v, id), at: at)
            if best.count > topN { best.removeLast() }
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

/// Eight logits from `i`; lanes past the end read -inf, which every step treats as "no token".
@inline(__always) func chunk(_ row: UnsafeBufferPointer<Float>, _ i: Int) -> F8 {
    if i + 8 <= row.count { return UnsafeRawPointer(row.baseAddress! + i).loadUnaligned(as: F8.self) }
    var v = F8(repeating: -.infinity)
    for j in 0..<(row.count - i) { v[j] = row[i + j] }
    return v
}

/// The row's maximum and its smallest finite entry (-inf entries are masked tokens).
func maxAndFiniteMin(_ row: UnsafeBufferPointer<Float>) -> (max: Float, min: Float) {
    var hi = F8(repeating: -.infinity)
    var lo = F8(repeating: .infinity)
    var i = 0
    while i < row.count {
        let v = chunk(row, i)
        let up = less(hi, v)
        hi = floats((bits(v) & up) | (bits(hi) & ~up))
        let down = less(v, lo) & ~less(v, F8(repeating: -.greatestFiniteMagnitude))  // skip -inf
        lo = floats((bits(v) & down) | (bits(lo) & ~down))
        i += 8
    }
    return (hi.max(), lo.min())
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
