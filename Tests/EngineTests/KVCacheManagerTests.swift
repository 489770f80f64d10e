@testable import Engine
import Testing

@Suite struct KVCacheManagerTests {
    func request(_ id: String, _ tokens: [Int], salt: String? = nil) -> Request {
        Request(id: id, promptTokenIds: tokens, sampling: .greedy, cacheSalt: salt)
    }

    @Test func samePromptHitsCachedFullBlocksCappedBeforeTheLastToken() {
        var kv = KVCacheManager(numBlocks: 20, blockSize: 4, enablePrefixCaching: true)
        let prompt = Array(100..<112)  // exactly 3 blocks
        let first = request("a", prompt)
        #expect(kv.computedBlocks(for: first).numTokens == 0)
        _ = kv.allocateSlots(for: first, numNewTokens: 12)
        let second = request("b", prompt)
        let hit = kv.computedBlocks(for: second)
        // 12 tokens known, at most 11 may hit: two whole blocks.
        #expect(hit.numTokens == 8 && hit.blocks == Array(kv.blockTable(for: "a").prefix(2)))
        let fresh = kv.allocateSlots(for: second, numNewTokens: 4, cachedBlocks: hit.blocks, numCachedTokens: hit.numTokens)
        #expect(fresh?.count == 1)
        #expect(kv.pool.refCount(hit.blocks[0]) == 2)
        #expect(kv.prefixCacheQueries == 24 && kv.prefixCacheHits == 8)
    }

    @Test func saltSeparatesTenants() {
        var kv = KVCacheManager(numBlocks: 20, blockSize: 4, enablePrefixCaching: true)
        let prompt = Array(0..<9)
        _ = kv.allocateSlots(for: request("a", prompt, salt: "x"), numNewTokens: 9)
        #expect(kv.computedBlocks(for: request("b", prompt, salt: "y")).numTokens == 0)
        #expect(kv.computedBlocks(for: request("c", prompt, salt: "x")).numTokens == 8)
    }

    @Test func disabledPrefixCachingNeverHits() {
        var kv = KVCacheManager(numBlocks: 20, blockSize: 4, enablePrefixCaching: false)
        _ = kv.allocateSlots(for: request("a", Array(0..<9)), numNewTokens: 9)
        #expect(kv.computedBlocks(for: request("b", Array(0..<9))).numTokens == 0)
    }

    @Test func shortPoolReturnsNilAndChangesNothing() {
        var kv = KVCacheManager(numBlocks: 4, blockSize: 4, enablePrefixCaching: true)
        let a = request("a", Array(0..<8))
        _ = kv.allocateSlots(for: a, numNewTokens: 8)
        let b = request("b", Array(50..<58))
        #expect(kv.allocateSlots(for: b, numNewTokens: 8) == nil)
        #expect(kv.numFreeBlocks == 1 && kv.blockTable(for: "b").isEmpty)
    }

    @Test func freeIsTailFirstAndAResumedRequestReHitsItsPrefix() {
        var kv = KVCacheManager(numBlocks: 10, blockSize: 4, enablePrefixCaching: true)
        let a = request("a", Array(0..<13))
        _ = kv.allocateSlots(for: a, numNewTokens: 13)
        let table = kv.blockTable(for: "a")
        kv.free(a)
        #expect(Array(kv.pool.freeListOrder.suffix(4)) == table.reversed())
        let hit = kv.computedBlocks(for: a)
        #expect(hit.numTokens == 12 && hit.blocks == Array(table.prefix(3)))
    }
}
