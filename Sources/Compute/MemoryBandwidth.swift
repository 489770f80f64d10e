import Foundation
import ShardlineKernels

/// A STREAM-like read test: how fast the pool's threads can stream a buffer much larger than
/// the last-level cache. The decode roofline is this bandwidth ÷ bytes read per token.
public enum MemoryBandwidth {
    /// Bytes per second reading `bytes` (default 1 GiB), best of `runs`.
    public static func measureRead(bytes: Int = 1 << 30, runs: Int = 5, pool: ThreadPool = .shared) -> Double {
        // In huge pages, as the weights that decode streams are (`WeightArena`), so the roofline
        // and the decode it judges read memory the same way.
        let mapped = HugePageMapping.map(bytes: bytes)
        let raw = mapped ?? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { if mapped != nil { HugePageMapping.unmap(raw, bytes: bytes) } else { raw.deallocate() } }
        let n = bytes / 4, data = raw.bindMemory(to: Float.self, capacity: n)
        for i in stride(from: 0, to: n, by: 1024) { data[i] = 1 }  // fault every page in first
        var best = 0.0
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            pool.parallelFor(n, minChunk: 1 << 20) { range in
                _ = sl_sum_f32(data + range.lowerBound, range.count)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(n * 4) / seconds)
        }
        return best
    }
}
