/// The identity of a full block of tokens for prefix caching: chained, so a block's hash
/// covers every token before it. The hash value is stable across processes and runs (no
/// per-process seed), so replicas and routers can compute the same hashes.
public struct BlockHash: Hashable, Sendable {
    public let value: UInt64
    /// Kept to rule out hash collisions: a cache hit must match parent, tokens and extra key.
    let parent: UInt64
    let tokens: [Int]
    let extraKey: UInt64

    /// `parent` is nil for a sequence's first block; `extraKey` salts it (cache_salt, adapters).
    public init(parent: BlockHash?, tokens: [Int], extraKey: UInt64 = 0) {
        self.parent = parent?.value ?? 0x5348_4152_444C_494E  // "SHARDLIN"
        self.tokens = tokens
        self.extraKey = extraKey
        var h = StableHasher(seed: self.parent)
        h.combine(extraKey)
        h.combine(UInt64(tokens.count))
        for t in tokens { h.combine(UInt64(bitPattern: Int64(t))) }
        value = h.finish()
    }

    public static func == (a: BlockHash, b: BlockHash) -> Bool {
        a.value == b.value && a.parent == b.parent && a.extraKey == b.extraKey && a.tokens == b.tokens
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(value) }

    /// A stable 64-bit digest of a string, for salts and adapter names.
    public static func digest(_ text: String) -> UInt64 {
        var h = StableHasher(seed: 0)
        for b in text.utf8 { h.combine(UInt64(b)) }
        return h.finish()
    }
}

/// 64-bit multiply-xorshift mixing (in the style of splitmix/wyhash): fast, stable, well spread.
struct StableHasher {
    private var state: UInt64

    init(seed: UInt64) { state = seed ^ 0x9E37_79B9_7F4A_7C15 }

    mutating func combine(_ word: UInt64) {
        state = (state ^ word) &* 0xBF58_476D_1CE4_E5B9
        state ^= state >> 31
        state = state &* 0x94D0_49BB_1331_11EB
        state ^= state >> 29
    }

    func finish() -> UInt64 {
        var z = state ^ (state >> 32)
        z = z &* 0xD6E8_FEB8_6659_FD93
        return z ^ (z >> 32)
    }
}
