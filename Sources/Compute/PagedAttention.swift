import ShardlineKernels

/// One layer's K and V cache: `slots = numBlocks × blockSize` rows of `numKVHeads × headDim`.
/// Slot s lives in block s / blockSize; a sequence's block table lists its blocks in order.
public struct PagedKVCache: Sendable {
    public let keys: Tensor
    public let values: Tensor
    public let blockSize: Int
    public let numKVHeads: Int
    public let headDim: Int

    public init(numBlocks: Int, blockSize: Int, numKVHeads: Int, headDim: Int) {
        keys = Tensor(zeros: [numBlocks * blockSize, numKVHeads * headDim])
        values = Tensor(zeros: [numBlocks * blockSize, numKVHeads * headDim])
        self.blockSize = blockSize
        self.numKVHeads = numKVHeads
        self.headDim = headDim
    }

    public var numBlocks: Int { keys.rowCount / blockSize }

    /// Stores row i of `k`/`v` at slot `slotMapping[i]`.
    public func write(keys k: Tensor, values v: Tensor, slotMapping: [Int32]) {
        precondition(k.rowCount == slotMapping.count && v.rowCount == slotMapping.count, "KV write: rows vs slots")
        let width = numKVHeads * headDim
        for (i, slot) in slotMapping.enumerated() {
            precondition(slot >= 0 && Int(slot) < keys.rowCount, "KV write: slot \(slot) outside cache")
            keys.row(Int(slot)).update(from: k.row(i), count: width)
            values.row(Int(slot)).update(from: v.row(i), count: width)
        }
    }
}

/// Query rows from which a sequence's attention runs as two GEMMs per head (`PrefillAttention`);
/// shorter ones (decodes, short chunks) go through the per-row kernel (`DecodeAttention`).
let prefillGEMMRows = 16

/// The first position a query at `position` attends to: the window's start, or 0 without one.
func firstVisiblePosition(_ position: Int, slidingWindow: Int?) -> Int {
    slidingWindow.map { max(0, position - $0 + 1) } ?? 0
}

extension PagedKVCache {
    /// The key and value blocks that the per-row kernel's sequences (fewer query rows than
    /// `prefillGEMMRows`) attend to, up to `limit` bytes: per sequence from the block this step
    /// writes back to the first visible one. The prefetching thread is a worker, and workers
    /// take a job's last items (`Job`), which hold a context's later positions.
    public func contextRegions(_ sequences: [AttentionSequence], slidingWindow: Int?, limit: Int = 1 << 20) -> [WeightRegion] {
        let blockBytes = blockSize * numKVHeads * headDim * 4
        let k = Int(bitPattern: UnsafeRawPointer(keys.data)), v = Int(bitPattern: UnsafeRawPointer(values.data))
        var regions: [WeightRegion] = []
        regions.reserveCapacity(min(2 * limit / max(blockBytes, 1) + 2, 256))
        func add(_ block: Int32) -> Bool {
            guard regions.count * blockBytes < limit else { return false }
            regions.append(WeightRegion(address: k + Int(block) * blockBytes, bytes: blockBytes))
            regions.append(WeightRegion(address: v + Int(block) * blockBytes, bytes: blockBytes))
            return true
        }
        for seq in sequences where seq.queryRows.count < prefillGEMMRows {
            let last = seq.firstPosition + seq.queryRows.count - 1
            let first = firstVisiblePosition(seq.firstPosition, slidingWindow: slidingWindow)
            let written = last / blockSize, table = seq.blockTable
            guard written < table.count else { continue }
            for b in stride(from: written, through: first / blockSize, by: -1) { guard add(table[b]) else { return regions } }
        }
        return regions
    }
}

/// The query rows of one sequence in a batch and where its keys live.
public struct AttentionSequence: Sendable {
    /// Rows of the batch's query tensor that belong to this sequence.
    public var queryRows: Range<Int>
    /// Position of the first query row; earlier positions are already in the cache.
    public var firstPosition: Int
    /// Physical block of each logical block of the sequence.
    public var blockTable: [Int32]

    public init(queryRows: Range<Int>, firstPosition: Int, blockTable: [Int32]) {
        self.queryRows = queryRows
        self.firstPosition = firstPosition
        self.blockTable = blockTable
    }
}

/// Causal grouped-query attention over paged K/V for a batch mixing prefill chunks and decodes.
/// This step's K/V must already be written. `slidingWindow` limits each query to its last
/// `window` positions. Returns [rows, numHeads·headDim].
public func pagedAttention(
    queries q: Tensor, cache: PagedKVCache, sequences: [AttentionSequence],
    numHeads: Int, scale: Float, slidingWindow: Int? = nil, pool: ThreadPool = .shared
) -> Tensor {
    let headDim = cache.headDim
    precondition(q.rowLength == numHeads * headDim, "attention: query width \(q.rowLength)")
    precondition(numHeads % cache.numKVHeads == 0, "attention: \(numHeads) heads over \(cache.numKVHeads) KV heads")
    let group = numHeads / cache.numKVHeads
    let out = Tensor(zeros: q.shape)
    // Prefill chunks of at least `prefillGEMMRows` rows go through two GEMMs per head; the other rows
    // (decodes, short chunks) through the per-row kernel (`DecodeAttention`).
    var items: [(seq: Int, row: Int)] = []
    for (s, seq) in sequences.enumerated() {
        let needed = seq.firstPosition + seq.queryRows.count
        precondition(seq.blockTable.count * cache.blockSize >= needed, "attention: block table too short for \(needed) positions")
        if seq.queryRows.count < prefillGEMMRows { for row in seq.queryRows { items.append((s, row)) } }
    }
    let prefill = PrefillAttention.items(sequences, numHeads: numHeads, minRows: prefillGEMMRows)
    if !prefill.isEmpty {
        BLAS.configureOnce
        pool.parallelFor(prefill.count, minChunk: 1) { range in
            var scratch: [Float] = []
            for i in range {
                let item = prefill[i]
                PrefillAttention.run(q: q, cache: cache, sequence: sequences[item.seq], rows: item.rows, head: item.head, group: group,
                                     scale: scale, slidingWindow: slidingWindow, out: out, scratch: &scratch)
            }
        }
    }
    if !items.isEmpty {
        DecodeAttention.run(q: q, cache: cache, sequences: sequences, rows: items, group: group, scale: scale,
                            slidingWindow: slidingWindow, out: out, pool: pool)
    }
    return out
}
