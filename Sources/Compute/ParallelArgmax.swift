import ShardlineKernels

extension ThreadPool {
    /// Index of the first largest non-NaN value of `row` (+0 and -0 tie; 0 when there is none),
    /// as `sl_argmax_f32`, with the row cut into one range per thread. Each range's winner is
    /// the first largest of its range; ranges are compared in order, so ties keep the first.
    public func argmax(_ row: UnsafeBufferPointer<Float>) -> Int {
        guard let x = row.baseAddress else { return 0 }
        // Below 64k values one thread reads the row faster than a dispatch and a join cost.
        let parts = row.count >= 1 << 16 ? threadCount : 1
        guard parts > 1 else { return sl_argmax_f32(x, row.count) }
        let found = UnsafeMutablePointer<Int>.allocate(capacity: parts)
        defer { found.deallocate() }
        let count = row.count
        run(chunks: parts) { c in
            let lo = count * c / parts, hi = count * (c + 1) / parts
            found[c] = lo + sl_argmax_f32(x + lo, hi - lo)
        }
        var best: Int?
        for c in 0..<parts where !x[found[c]].isNaN {  // an all-NaN range reports its first index
            if best == nil || x[found[c]] > x[best!] { best = found[c] }
        }
        return best ?? 0
    }
}
