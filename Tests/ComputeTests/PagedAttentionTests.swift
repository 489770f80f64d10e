import Compute
import Foundation
import ShardlineKernels
import Testing

@Suite struct PagedAttentionTests {
    /// Dense causal GQA attention, straight from the definition.
    func reference(q: [[Float]], k: [[Float]], v: [[Float]], numHeads: Int, numKV: Int, headDim: Int,
                   firstPosition: Int, scale: Float, window: Int?) -> [[Float]] {
        let group = numHeads / numKV
        return q.indices.map { i in
            let pos = firstPosition + i
            let lo = window.map { max(0, pos - $0 + 1) } ?? 0
            var out = [Float](repeating: 0, count: numHeads * headDim)
            for h in 0..<numHeads {
                let kh = h / group
                let scores = (lo...pos).map { p in
                    (0..<headDim).map { q[i][h * headDim + $0] * k[p][kh * headDim + $0] }.reduce(0, +) * scale
                }
                let m = scores.max()!
                let e = scores.map { exp($0 - m) }
                let z = e.reduce(0, +)
                for (j, p) in (lo...pos).enumerated() {
                    for d in 0..<headDim { out[h * headDim + d] += e[j] / z * v[p][kh * headDim + d] }
                }
            }
            return out
        }
    }

    /// Random keys and values for positions 0..<positions, written to the slots `table` maps them to.
    func writeRandom(_ cache: PagedKVCache, positions: Int, table: [Int32], _ rng: inout SeededRandom) -> (k: [[Float]], v: [[Float]]) {
        let width = cache.numKVHeads * cache.headDim, blockSize = cache.blockSize
        let k = (0..<positions).map { _ in (0..<width).map { _ in rng.next() } }
        let v = (0..<positions).map { _ in (0..<width).map { _ in rng.next() } }
        let slots = (0..<positions).map { table[$0 / blockSize] * Int32(blockSize) + Int32($0 % blockSize) }
        cache.write(keys: Tensor(shape: [positions, width], values: k.flatMap { $0 }),
                    values: Tensor(shape: [positions, width], values: v.flatMap { $0 }), slotMapping: slots)
        return (k, v)
    }

    @Test(arguments: [nil, 3] as [Int?])
    func matchesDenseReferenceOnScatteredBlocks(window: Int?) {
        var rng = SeededRandom(seed: 11)
        let numHeads = 4, numKV = 2, headDim = 8, blockSize = 2, total = 7, first = 4
        let cache = PagedKVCache(numBlocks: 8, blockSize: blockSize, numKVHeads: numKV, headDim: headDim)
        let table: [Int32] = [6, 1, 7, 3]
        let (k, v) = writeRandom(cache, positions: total, table: table, &rng)
        let q = (first..<total).map { _ in (0..<numHeads * headDim).map { _ in rng.next() } }
        let out = pagedAttention(
            queries: Tensor(shape: [q.count, numHeads * headDim], values: q.flatMap { $0 }), cache: cache,
            sequences: [AttentionSequence(queryRows: 0..<q.count, firstPosition: first, blockTable: table)],
            numHeads: numHeads, scale: 0.35, slidingWindow: window)
        let expected = reference(q: q, k: k, v: v, numHeads: numHeads, numKV: numKV, headDim: headDim,
                                 firstPosition: first, scale: 0.35, window: window)
        #expect(maxDiff(out.toArray(), expected.flatMap { $0 }) < 1e-5)
    }

    /// Long chunks take the GEMM path (≥ 16 rows, in chunks of 128 query rows); a short chunk and
    /// a decode row in the same batch keep the per-row kernel. All must match the definition.
    @Test(arguments: [nil, 37] as [Int?])
    func prefillChunksMatchDenseReference(window: Int?) {
        var rng = SeededRandom(seed: 12)
        let numHeads = 4, numKV = 2, headDim = 16, blockSize = 4
        let cache = PagedKVCache(numBlocks: 120, blockSize: blockSize, numKVHeads: numKV, headDim: headDim)
        // (total positions, first query position): a 150-row chunk after 20 cached tokens, a 9-row chunk, one decode row.
        let shapes = [(170, 20), (9, 0), (30, 29)]
        var nextBlock: Int32 = 119
        var sequences: [AttentionSequence] = [], queries: [[Float]] = [], expected: [[Float]] = []
        for (total, first) in shapes {
            var table: [Int32] = []
            for _ in 0..<((total + blockSize - 1) / blockSize) { table.append(nextBlock); nextBlock -= 1 }  // scattered, descending
            let (k, v) = writeRandom(cache, positions: total, table: table, &rng)
            let q = (first..<total).map { _ in (0..<numHeads * headDim).map { _ in rng.next() } }
            sequences.append(AttentionSequence(queryRows: queries.count..<(queries.count + q.count), firstPosition: first, blockTable: table))
            queries += q
            expected += reference(q: q, k: k, v: v, numHeads: numHeads, numKV: numKV, headDim: headDim,
                                  firstPosition: first, scale: 0.25, window: window)
        }
        let out = pagedAttention(queries: Tensor(shape: [queries.count, numHeads * headDim], values: queries.flatMap { $0 }),
                                 cache: cache, sequences: sequences, numHeads: numHeads, scale: 0.25, slidingWindow: window,
                                 pool: ThreadPool(threads: 3))
        #expect(maxDiff(out.toArray(), expected.flatMap { $0 }) < 1e-4)
    }

    /// Decode rows: all the query heads of a KV head in one pass, and long contexts cut into
    /// partitions that threads take in parallel and then merge. A 44-wide head takes the
    /// 32-wide strips, an 8-wide strip and a scalar tail. Any thread count matches the
    /// definition; one thread (never partitioned) and three (partitioned) agree to rounding.
    @Test(arguments: [nil, 100] as [Int?])
    func decodeRowsMatchDenseReferenceInPartitions(window: Int?) {
        var rng = SeededRandom(seed: 13)
        let numHeads = 4, numKV = 1, headDim = 44, blockSize = 16
        let cache = PagedKVCache(numBlocks: 64, blockSize: blockSize, numKVHeads: numKV, headDim: headDim)
        var nextBlock: Int32 = 63
        var sequences: [AttentionSequence] = [], queries: [[Float]] = [], expected: [[Float]] = []
        for total in [300, 17, 130, 50] {  // one decode row each, at position total - 1
            var table: [Int32] = []
            for _ in 0..<((total + blockSize - 1) / blockSize) { table.append(nextBlock); nextBlock -= 1 }
            let (k, v) = writeRandom(cache, positions: total, table: table, &rng)
            let q = [(0..<numHeads * headDim).map { _ in rng.next() }]
            sequences.append(AttentionSequence(queryRows: queries.count..<(queries.count + 1), firstPosition: total - 1, blockTable: table))
            queries += q
            expected += reference(q: q, k: k, v: v, numHeads: numHeads, numKV: numKV, headDim: headDim,
                                  firstPosition: total - 1, scale: 0.3, window: window)
        }
        let x = Tensor(shape: [queries.count, numHeads * headDim], values: queries.flatMap { $0 })
        func run(_ seqs: [AttentionSequence], threads: Int) -> [Float] {
            pagedAttention(queries: x, cache: cache, sequences: seqs, numHeads: numHeads, scale: 0.3,
                           slidingWindow: window, pool: ThreadPool(threads: threads)).toArray()
        }
        let single = run(sequences, threads: 1)
        #expect(maxDiff(single, expected.flatMap { $0 }) < 1e-5)
        for threads in [2, 3] {
            #expect(maxDiff(run(sequences, threads: threads), single) < 1e-5, "threads=\(threads), batch of 3")
            // Batch 1: one (row, KV head) pair, so the context is partitioned (50 positions: 3
            // partitions rounded to 2 on 2 threads).
            for (i, seq) in sequences.enumerated() {
                let alone = run([seq], threads: threads), row = (i * numHeads * headDim)..<((i + 1) * numHeads * headDim)
                #expect(maxDiff(Array(alone[row]), Array(single[row])) < 1e-5, "threads=\(threads), batch 1, context \(seq.firstPosition + 1)")
            }
        }
    }

    /// The KV blocks a step's decode rows read, for the prefetcher: keys and values of each
    /// block, from the one this step writes back to the first (a worker prefetches them and
    /// workers take the later positions), only the window's blocks, no prefill chunks, cut at
    /// the limit.
    @Test func contextRegionsListTheBlocksDecodeRowsRead() {
        let cache = PagedKVCache(numBlocks: 12, blockSize: 16, numKVHeads: 2, headDim: 8)
        let blockBytes = 16 * 2 * 8 * 4
        let k = Int(bitPattern: UnsafeRawPointer(cache.keys.data)), v = Int(bitPattern: UnsafeRawPointer(cache.values.data))
        func blocks(_ ids: [Int]) -> [WeightRegion] {
            ids.flatMap { [WeightRegion(address: k + $0 * blockBytes, bytes: blockBytes), WeightRegion(address: v + $0 * blockBytes, bytes: blockBytes)] }
        }
        let decode = AttentionSequence(queryRows: 0..<1, firstPosition: 40, blockTable: [5, 2, 9])
        let prefill = AttentionSequence(queryRows: 1..<21, firstPosition: 0, blockTable: [7, 8])
        #expect(cache.contextRegions([decode, prefill], slidingWindow: nil) == blocks([9, 2, 5]))
        #expect(cache.contextRegions([prefill, decode], slidingWindow: 10) == blocks([9, 2]), "positions 31-40 only")
        #expect(cache.contextRegions([decode], slidingWindow: nil, limit: 2 * blockBytes + 1) == blocks([9, 2]))
    }

    /// The attention kernel's two-rows-at-once dot gives exactly the one-row dot's sums
    /// (widths with a 32-wide body, an 8-wide step and a scalar tail).
    @Test(arguments: [5, 40, 256, 300])
    func pairedDotsEqualSingleDotsBitwise(n: Int) {
        var rng = SeededRandom(seed: 14 + UInt64(n))
        let q = (0..<n).map { _ in rng.next() }, a = (0..<n).map { _ in rng.next() }, b = (0..<n).map { _ in rng.next() }
        var r0: Float = .nan, r1: Float = .nan
        sl_dot2_f32(q, a, b, n, &r0, &r1)
        #expect(r0 == sl_dot_f32(q, a, n) && r1 == sl_dot_f32(q, b, n))
    }
}
