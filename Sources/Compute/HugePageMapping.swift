#if canImport(Glibc)
import Glibc
#endif

/// Anonymous memory starting on a 2 MB boundary and marked for transparent huge pages.
///
/// Decode streams every weight once per token: with 4 KB pages that is a TLB miss every 4 KB
/// (45,000 per token for Gemma 270M's 178 MB head), a 2 MB page covers 512 of them. Linux's
/// default THP mode ("madvise") only backs regions that ask. On this project's VMs (Zen 4) the
/// hardware hid the misses: batch-1 decode measured the same either way, within noise; the
/// advice is kept for machines whose page walks are not free. The mapping is `bytes` long
/// (page-rounded), not rounded to 2 MB: a tail that fills no huge page stays in 4 KB pages.
enum HugePageMapping {
    static let hugePage = 2 << 20

    /// Zeroed memory of at least `bytes`, or nil when mmap fails.
    static func map(bytes: Int) -> UnsafeMutableRawPointer? {
        let length = roundedLength(bytes)
        // Over-map by one huge page, then trim so the start is 2 MB aligned.
        guard let raw = mmap(nil, length + hugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              raw != MAP_FAILED else { return nil }
        let address = Int(bitPattern: raw)
        let aligned = (address + hugePage - 1) / hugePage * hugePage
        if aligned > address { munmap(raw, aligned - address) }
        let end = address + length + hugePage, used = aligned + length
        if end > used { munmap(UnsafeMutableRawPointer(bitPattern: used), end - used) }
        let p = UnsafeMutableRawPointer(bitPattern: aligned)!
        _ = madvise(p, length, MADV_HUGEPAGE)  // advice only: without THP the pages are 4 KB
        return p
    }

    static func unmap(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        munmap(pointer, roundedLength(bytes))
    }

    private static func roundedLength(_ bytes: Int) -> Int {
        let page = 4096
        return max(page, (bytes + page - 1) / page * page)
    }
}
