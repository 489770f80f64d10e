import Synchronization

/// One huge-page mapping (`HugePageMapping`) that holds a model's quantized weights back to back.
///
/// Per-matrix allocations of a small model are mostly under 2 MB (Gemma 270M's layer matrices
/// are 0.4–1.8 MB) and K-quant matrices were borrowed from the file's memory map: both in 4 KB
/// pages, a TLB miss every 4 KB of the stream decode reads each token. Placed contiguously in
/// one mapping, every weight is in 2 MB pages and nothing is rounded up. Space is handed out
/// once and never reused: the arena lives as long as the model whose matrices it holds.
public final class WeightArena: @unchecked Sendable {
    private let base: UnsafeMutableRawPointer?
    public let capacity: Int
    private let used = Mutex(0)

    /// Reserves `capacity` bytes of address space; pages become memory only when written.
    public init(capacity: Int) {
        self.capacity = capacity
        base = capacity > 0 ? HugePageMapping.map(bytes: capacity) : nil
    }

    /// `bytes` of zeroed, 64-byte aligned memory, or nil when the arena is full (or has no mapping).
    public func allocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
        guard let base, bytes > 0 else { return nil }
        let start: Int? = used.withLock { used in
            let start = (used + 63) / 64 * 64
            guard start + bytes <= capacity else { return nil }
            used = start + bytes
            return start
        }
        guard let start else { return nil }
        MemoryTracker.allocated(bytes)
        return base + start
    }

    /// Bytes handed out so far, alignment included.
    public var usedBytes: Int { used.withLock { $0 } }

    deinit {
        guard let base else { return }
        HugePageMapping.unmap(base, bytes: capacity)
        MemoryTracker.released(used.withLock { $0 })
    }
}
