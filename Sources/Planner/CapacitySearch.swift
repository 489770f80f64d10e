/// The highest Poisson request rate whose simulated TTFT p99 and TPOT p99 meet targets
/// (Vidur's capacity search). Every probe replays the same seeded requests, so the outcome at a
/// rate is a fixed fact; a looser target passes at least every rate a tighter one passes, and
/// a deterministic search over such a predicate can only move up: the answer is monotone in
/// the targets even where latency is not perfectly monotone in the rate.
public struct CapacitySearch: Sendable {
    public var simulator: Simulator
    /// The load shape; its arrival pattern is replaced by Poisson at each probed rate.
    public var workload: Workload
    public var ttftP99Target: Double
    public var tpotP99Target: Double
    /// Bisection steps after bracketing; 12 gives the rate to ~0.02% of the bracket.
    public var bisections: Int

    public init(simulator: Simulator, workload: Workload, ttftP99Target: Double, tpotP99Target: Double, bisections: Int = 12) {
        self.simulator = simulator
        self.workload = workload
        self.ttftP99Target = ttftP99Target
        self.tpotP99Target = tpotP99Target
        self.bisections = bisections
    }

    public struct Probe: Sendable, Codable, Equatable {
        public var rate: Double
        public var ttftP99: Double
        public var tpotP99: Double
        public var meets: Bool
    }

    public struct Result: Sendable, Codable, Equatable {
        /// Requests per second; 0 when even the lowest probed rate misses the targets.
        public var rate: Double
        public var report: SimulationReport?
        public var probes: [Probe]
    }

    public func run() throws -> Result {
        var probes: [Probe] = []
        var best: (rate: Double, report: SimulationReport)?
        func meets(_ rate: Double) throws -> Bool {
            var w = workload
            w.arrivals = .poisson(rate: rate)
            let r = try simulator.run(w)
            let ok = r.ttft.p99 <= ttftP99Target && r.tpot.p99 <= tpotP99Target
            probes.append(Probe(rate: rate, ttftP99: r.ttft.p99, tpotP99: r.tpot.p99, meets: ok))
            if ok && rate > (best?.rate ?? 0) { best = (rate, r) }
            return ok
        }
        // Bracket by doubling (or halving) from 1 request/s.
        var lo = 0.0, hi = 0.0
        if try meets(1) {
            lo = 1
            hi = 2
            while try hi <= 65_536 && meets(hi) {
                lo = hi
                hi *= 2
            }
            if lo == hi / 2 && hi > 65_536 { return Result(rate: lo, report: best?.report, probes: probes) }
        } else {
            hi = 1
            var r = 0.5
            while r >= 1.0 / 1024 {
                if try meets(r) {
                    lo = r
                    break
                }
                hi = r
                r /= 2
            }
            if lo == 0 { return Result(rate: 0, report: nil, probes: probes) }
        }
        for _ in 0..<bisections {
            let mid = (lo + hi) / 2
            if try meets(mid) { lo = mid } else { hi = mid }
        }
        return Result(rate: lo, report: best?.report, probes: probes)
    }
}
