/// Which blocks each request holds, prefix-cache lookups, and slot allocation for a step.
/// Knows nothing of compute: blocks are numbers; workers own the memory behind them.
public struct KVCacheManager: Sendable {
    public let blockSize: Int
    public let enablePrefixCaching: Bool
    public private(set) var pool: BlockPool
    private var blocksByRequest: [RequestID: [Int32]] = [:]
    /// How many leading blocks of each request are already registered in the prefix cache.
    private var numCachedBlocksByRequest: [RequestID: Int] = [:]
    /// Prefix-cache counters in tokens, as vLLM reports them.
    public private(set) var prefixCacheQueries = 0
    public private(set) var prefixCacheHits = 0

    public init(numBlocks: Int, blockSize: Int, enablePrefixCaching: Bool) {
        precondition(blockSize > 0, "block size must be positive")
        self.blockSize = blockSize
        self.enablePrefixCaching = enablePrefixCaching
        pool = BlockPool(numBlocks: numBlocks)
    }

    public var usage: Double { pool.usage }
    public var numFreeBlocks: Int { pool.numFreeBlocks }

    public func blockTable(for id: RequestID) -> [Int32] { blocksByRequest[id] ?? [] }

    public func blocksNeeded(tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    /// The longest cached prefix of `request`, in whole blocks, leaving at least one token to
    /// compute (its logits are needed). Counts toward the hit-rate counters.
    public mutating func computedBlocks(for request: Request) -> (blocks: [Int32], numTokens: Int) {
        guard enablePrefixCaching else { return ([], 0) }
        updateBlockHashes(request)
        let maxBlocks = (request.numTokens - 1) / blockSize
        var hits: [Int32] = []
        for hash in request.blockHashes.prefix(maxBlocks) {
            guard let block = pool.cachedBlock(for: hash) else { break }
            hits.append(block)
        }
        prefixCacheQueries += request.numTokens
        prefixCacheHits += hits.count * blockSize
        return (hits, hits.count * blockSize)
    }

    /// Makes room for `numNewTokens` more tokens of `request` (after `cachedBlocks`, which cover
    /// `numCachedTokens` tokens found by `computedBlocks`). Returns the newly allocated blocks, or
    /// nil, changing nothing, when the pool is short; the scheduler then preempts or waits.
    public mutating func allocateSlots(
        for request: Request, numNewTokens: Int, cachedBlocks: [Int32] = [], numCachedTokens: Int = 0
    ) -> [Int32]? {
        let held = blocksByRequest[request.id] ?? []
        let computedAfterHits = request.numComputedTokens + numCachedTokens
        let required = blocksNeeded(tokens: computedAfterHits + numNewTokens)
        let newCount = max(0, required - held.count - cachedBlocks.count)
        // Cache hits sitting in the free list stop being free once touched.
        let hitsInFreeList = cachedBlocks.filter { pool.isFree($0) }.count
        guard newCount <= pool.numFreeBlocks - hitsInFreeList else { return nil }
        pool.touch(cachedBlocks)
        guard let fresh = pool.allocate(newCount) else { return nil }
        let blocks = held + cachedBlocks + fresh
        blocksByRequest[request.id] = blocks
        if enablePrefixCaching {
            // Blocks that will be full once this step runs are cached now, so a request in the
            // same or a later step can share them (their K/V is written before it is read).
            let known = min(computedAfterHits + numNewTokens, request.numTokens)
            cacheFullBlocks(request, blocks: blocks, fullBlocks: known / blockSize)
        }
        return fresh
    }

    /// Releases all of a request's blocks, tail first, so its tail is evicted before its prefix.
    public mutating func free(_ request: Request) {
        guard let blocks = blocksByRequest.removeValue(forKey: request.id) else { return }
        numCachedBlocksByRequest[request.id] = nil
        pool.free(blocks.reversed())
    }

    public mutating func resetPrefixCache() { pool.resetPrefixCache() }

    private mutating func cacheFullBlocks(_ request: Request, blocks: [Int32], fullBlocks: Int) {
        let already = numCachedBlocksByRequest[request.id] ?? 0
        guard fullBlocks > already else { return }
        updateBlockHashes(request)
        for i in already..<fullBlocks { pool.cache(blocks[i], as: request.blockHashes[i]) }
        numCachedBlocksByRequest[request.id] = fullBlocks
    }

    /// Extends the request's chained hashes over every full block of its known tokens.
    private func updateBlockHashes(_ request: Request) {
        let full = request.numTokens / blockSize
        let salt = request.cacheSalt.map(BlockHash.digest) ?? 0
        while request.blockHashes.count < full {
            let i = request.blockHashes.count
            let tokens = request.tokens((i * blockSize)..<((i + 1) * blockSize))
            request.blockHashes.append(BlockHash(parent: request.blockHashes.last, tokens: tokens, extraKey: i == 0 ? salt : 0))
        }
    }
}
