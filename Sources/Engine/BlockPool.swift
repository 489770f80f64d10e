/// Fixed-size KV blocks with reference counts and a least-recently-used free list.
///
/// Free blocks keep their prefix-cache hash until they are reused, so a request that comes back
/// (a new turn, a preempted request resuming) re-hits its own blocks. The free list is intrusive
/// (prev/next indices per block), so a cache hit can pull a block out of the middle in O(1).
/// Block 0 is the null block: never handed out, a placeholder in block tables.
public struct BlockPool: Sendable {
    public static let nullBlock: Int32 = 0
    private static let none: Int32 = -1

    public let numBlocks: Int
    private var refCounts: [Int32]
    private var prevFree: [Int32]
    private var nextFree: [Int32]
    private var head: Int32 = BlockPool.none
    private var tail: Int32 = BlockPool.none
    public private(set) var numFreeBlocks = 0
    private var blockHash: [BlockHash?]
    private var cachedBlocks: [BlockHash: Int32] = [:]

    public init(numBlocks: Int) {
        precondition(numBlocks >= 2, "BlockPool needs the null block and at least one more")
        self.numBlocks = numBlocks
        refCounts = Array(repeating: 0, count: numBlocks)
        prevFree = Array(repeating: Self.none, count: numBlocks)
        nextFree = Array(repeating: Self.none, count: numBlocks)
        blockHash = Array(repeating: nil, count: numBlocks)
        refCounts[0] = 1  // the null block is permanently in use
        for b in 1..<Int32(numBlocks) { appendFree(b) }
    }

    /// Blocks a request can use: every block but the null block.
    public var capacity: Int { numBlocks - 1 }
    public var usage: Double { Double(capacity - numFreeBlocks) / Double(capacity) }
    public var numCachedBlocks: Int { cachedBlocks.count }

    public func refCount(_ block: Int32) -> Int { Int(refCounts[Int(block)]) }
    public func hash(of block: Int32) -> BlockHash? { blockHash[Int(block)] }
    public func isFree(_ block: Int32) -> Bool { refCounts[Int(block)] == 0 }

    /// Takes `count` blocks from the least recently used end, dropping any cached hash they held.
    public mutating func allocate(_ count: Int) -> [Int32]? {
        guard count <= numFreeBlocks else { return nil }
        var out: [Int32] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let b = head
            removeFree(b)
            evictHash(b)
            refCounts[Int(b)] = 1
            out.append(b)
        }
        return out
    }

    /// Takes another reference to blocks found in the prefix cache.
    public mutating func touch(_ blocks: [Int32]) {
        for b in blocks {
            if refCounts[Int(b)] == 0 { removeFree(b) }
            refCounts[Int(b)] += 1
        }
    }

    /// Drops one reference from each block; blocks that reach zero join the free list in the
    /// order given, so pass a request's blocks tail first to have its tail evicted first.
    public mutating func free(_ blocks: [Int32]) {
        for b in blocks where b != Self.nullBlock {
            precondition(refCounts[Int(b)] > 0, "BlockPool: freeing block \(b) with no references")
            refCounts[Int(b)] -= 1
            if refCounts[Int(b)] == 0 { appendFree(b) }
        }
    }

    /// The cached block holding exactly this prefix, if any.
    public func cachedBlock(for hash: BlockHash) -> Int32? { cachedBlocks[hash] }

    /// Records that `block` now holds the tokens of `hash`. A hash already cached elsewhere keeps
    /// its first block; this one stays unhashed and is simply freed later.
    public mutating func cache(_ block: Int32, as hash: BlockHash) {
        guard blockHash[Int(block)] == nil, cachedBlocks[hash] == nil else { return }
        blockHash[Int(block)] = hash
        cachedBlocks[hash] = block
    }

    /// Forgets every cached prefix (e.g. after weights change). Blocks in use keep their data.
    public mutating func resetPrefixCache() {
        cachedBlocks.removeAll()
        for b in 0..<numBlocks { blockHash[b] = nil }
    }

    /// Free blocks from least to most recently freed (for tests and debugging).
    public var freeListOrder: [Int32] {
        var out: [Int32] = []
        var b = head
        while b != Self.none {
            out.append(b)
            b = nextFree[Int(b)]
        }
        return out
    }

    private mutating func evictHash(_ b: Int32) {
        if let h = blockHash[Int(b)] {
            if cachedBlocks[h] == b { cachedBlocks[h] = nil }
            blockHash[Int(b)] = nil
        }
    }

    private mutating func appendFree(_ b: Int32) {
        prevFree[Int(b)] = tail
        nextFree[Int(b)] = Self.none
        if tail != Self.none { nextFree[Int(tail)] = b } else { head = b }
        tail = b
        numFreeBlocks += 1
    }

    private mutating func removeFree(_ b: Int32) {
        let p = prevFree[Int(b)], n = nextFree[Int(b)]
        if p != Self.none { nextFree[Int(p)] = n } else { head = n }
        if n != Self.none { prevFree[Int(n)] = p } else { tail = p }
        prevFree[Int(b)] = Self.none
        nextFree[Int(b)] = Self.none
        numFreeBlocks -= 1
    }
}
