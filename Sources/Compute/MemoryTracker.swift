import Synchronization

/// Live and peak bytes of tensor storage in this process. The engine measures a model's
/// activation peak with it: reset the peak, run a batch of the maximum size, read the peak.
public enum MemoryTracker {
    private static let live = Atomic<Int>(0)
    private static let peak = Atomic<Int>(0)

    public static var liveBytes: Int { live.load(ordering: .relaxed) }
    public static var peakBytes: Int { peak.load(ordering: .relaxed) }

    /// Starts a new peak measurement from the current live bytes.
    public static func resetPeak() { peak.store(live.load(ordering: .relaxed), ordering: .relaxed) }

    static func allocated(_ bytes: Int) {
        let now = live.add(bytes, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, current) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = current
        }
    }

    static func released(_ bytes: Int) { live.subtract(bytes, ordering: .relaxed) }
}
