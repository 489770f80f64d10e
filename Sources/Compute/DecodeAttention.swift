import ShardlineKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Attention of single query rows (decodes, short chunks) over paged K/V, one work item per
/// (row, KV head, partition of the context).
///
/// All the query heads that share a KV head go together, so each key and value row is read
/// once per step, not once per query head (Gemma 270M: 4 heads on 1 KV head). When there are
/// fewer (row, KV head) pairs than threads — batch-1 decode of a 1-KV-head model is one pair —
/// the context is cut into partitions that threads take in parallel, and their softmaxes are
/// merged (flash-decoding): out = Σᵢ sᵢ·eᵐⁱ·oᵢ / Σᵢ sᵢ·eᵐⁱ over partitions i with max mᵢ,
/// sum sᵢ and normalized output oᵢ. A context in one partition gives the unpartitioned result.
enum DecodeAttention {
    /// Positions a partition holds at least: below this, a thread's share is not worth a merge.
    static let minPartition = 16

    struct Item {
        let seq: Int, row: Int, kvHead: Int
        let first: Int, last: Int
        /// Where the partial result goes when the context is cut: index into the partials, or nil.
        let partial: Int?
    }

    /// Writes out[row] for every row in `rows` ((sequence, query row) pairs).
    static func run(q: Tensor, cache: PagedKVCache, sequences: [AttentionSequence], rows: [(seq: Int, row: Int)],
                    group: Int, scale: Float, slidingWindow: Int?, out: Tensor, pool: ThreadPool) {
        let hd = cache.headDim, pairs = rows.count * cache.numKVHeads
        // Enough partitions per pair for two items per thread; one when pairs already do that.
        let threads = pool.threadCount
        let wanted = threads == 1 ? 1 : max(1, (2 * threads + pairs - 1) / pairs)
        var items: [Item] = [], merges: [(row: Int, kvHead: Int, partials: Range<Int>)] = []
        var partials = 0, longest = 1
        for (s, row) in rows {
            let seq = sequences[s]
            let position = seq.firstPosition + (row - seq.queryRows.lowerBound)
            let first = firstVisiblePosition(position, slidingWindow: slidingWindow)
            let context = position - first + 1
            var parts = min(wanted, max(1, context / minPartition))
            // Threads take equal runs of items: 3 partitions on 2 threads left one thread idle for
            // half of batch-1 attention (11 of 23 us a layer at 96-127 positions).
            if parts > threads { parts -= parts % threads }
            longest = max(longest, (context + parts - 1) / parts)
            for kvHead in 0..<cache.numKVHeads {
                if parts > 1 { merges.append((row, kvHead, partials..<(partials + parts))) }
                for p in 0..<parts {
                    items.append(Item(seq: s, row: row, kvHead: kvHead, first: first + context * p / parts,
                                      last: first + context * (p + 1) / parts - 1, partial: parts > 1 ? partials + p : nil))
                }
                if parts > 1 { partials += parts }
            }
        }
        // Per partial: group normalized head outputs, then each head's max and sum.
        let stride = group * (hd + 2)
        let partialBuffer = Tensor(unfilled: [max(partials, 1), stride])
        let pb = partialBuffer.data
        pool.parallelFor(items.count, minChunk: 1) { range in
            var scratch = [Float](repeating: 0, count: (group + 4) * longest)
            scratch.withUnsafeMutableBufferPointer { scratch in
                for item in items[range] {
                    let q0 = q.row(item.row) + item.kvHead * group * hd
                    let dst = item.partial.map { pb + $0 * stride } ?? (out.row(item.row) + item.kvHead * group * hd)
                    let stats = item.partial.map { pb + $0 * stride + group * hd }
                    sequences[item.seq].blockTable.withUnsafeBufferPointer { table in
                        sl_paged_attention_group_f32(
                            q0, cache.keys.data, cache.values.data, table.baseAddress, cache.blockSize, cache.numKVHeads,
                            item.kvHead, hd, group, item.first, item.last, scale, scratch.baseAddress, dst,
                            stats, stats.map { $0 + group })
                    }
                }
            }
        }
        for merge in merges {
            for h in 0..<group {
                var m = -Float.infinity
                for i in merge.partials { m = max(m, pb[i * stride + group * hd + h]) }
                let dst = out.row(merge.row) + (merge.kvHead * group + h) * hd
                var total: Float = 0
                for d in 0..<hd { dst[d] = 0 }
                for i in merge.partials {
                    let w = pb[i * stride + group * hd + group + h] * expf(pb[i * stride + group * hd + h] - m)
                    total += w
                    sl_axpy_f32(dst, pb + i * stride + h * hd, w, hd)
                }
                let inv = 1 / total
                for d in 0..<hd { dst[d] *= inv }
            }
        }
    }
}
