@testable import Engine
import Testing

@Suite struct BlockPoolTests {
    @Test func nullBlockIsNeverHandedOut() {
        var pool = BlockPool(numBlocks: 5)
        #expect(pool.capacity == 4 && pool.numFreeBlocks == 4)
        let blocks = pool.allocate(4)!
        #expect(!blocks.contains(BlockPool.nullBlock))
        #expect(pool.allocate(1) == nil)
        #expect(pool.usage == 1)
    }

    @Test func freedBlocksJoinTheTailInOrderGiven() {
        var pool = BlockPool(numBlocks: 6)
        let blocks = pool.allocate(5)!
        pool.free([blocks[2], blocks[0]])
        pool.free([blocks[4]])
        #expect(pool.freeListOrder == [blocks[2], blocks[0], blocks[4]])
        #expect(pool.allocate(1) == [blocks[2]])
    }

    @Test func touchingACachedFreeBlockTakesItFromTheMiddle() {
        var pool = BlockPool(numBlocks: 5)
        let blocks = pool.allocate(4)!
        let hash = BlockHash(parent: nil, tokens: [1, 2])
        pool.cache(blocks[1], as: hash)
        pool.free(blocks)
        #expect(pool.cachedBlock(for: hash) == blocks[1])
        pool.touch([blocks[1]])
        #expect(pool.freeListOrder == [blocks[0], blocks[2], blocks[3]])
        #expect(pool.refCount(blocks[1]) == 1 && pool.numFreeBlocks == 3)
        pool.touch([blocks[1]])
        #expect(pool.refCount(blocks[1]) == 2)
        pool.free([blocks[1]])
        #expect(pool.refCount(blocks[1]) == 1 && !pool.isFree(blocks[1]))
    }

    @Test func hashSurvivesFreeAndIsDroppedOnReuse() {
        var pool = BlockPool(numBlocks: 2)
        let block = pool.allocate(1)!
        let hash = BlockHash(parent: nil, tokens: [7])
        pool.cache(block[0], as: hash)
        pool.free(block)
        #expect(pool.cachedBlock(for: hash) == block[0])
        _ = pool.allocate(1)
        #expect(pool.cachedBlock(for: hash) == nil && pool.hash(of: block[0]) == nil)
    }

    @Test func hashesChainAndDistinguishEqualValues() {
        let a = BlockHash(parent: nil, tokens: [1, 2, 3])
        let b = BlockHash(parent: a, tokens: [4, 5, 6])
        let c = BlockHash(parent: nil, tokens: [9, 9, 9])
        let d = BlockHash(parent: c, tokens: [4, 5, 6])
        #expect(b != d && b.value != d.value)
        #expect(BlockHash(parent: a, tokens: [4, 5, 6]) == b)
        #expect(BlockHash(parent: nil, tokens: [1, 2, 3], extraKey: 5) != a)
        // Same 64-bit value but different tokens must not compare equal (collision guard).
        let forged = BlockHash(parent: nil, tokens: [1, 2, 4])
        #expect(forged != a)
    }
}
