/// Simulated time in seconds. The engine core reads it through its clock closure; only the
/// simulated executor (batch completions) and the simulator (idle gaps before an arrival) move it.
///
/// @unchecked Sendable: one thread drives a simulation (the engine loop is single-threaded), so
/// the clock is never read and written concurrently.
public final class VirtualClock: @unchecked Sendable {
    public private(set) var now: Double = 0

    public init() {}

    /// Moves forward to `time`; never backwards.
    public func advance(to time: Double) {
        if time > now { now = time }
    }

    public var closure: @Sendable () -> Double { { [unowned self] in self.now } }
}
