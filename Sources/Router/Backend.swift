import Synchronization

/// One `shardline serve` (or any OpenAI-compatible server) behind the router: its base URL,
/// whether its last health check or request reached it, and its requests in flight.
final class Backend: Sendable {
    let url: String
    private let healthyFlag = Atomic<Bool>(true)
    private let inFlight = Atomic<Int>(0)

    init(url: String) {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        self.url = base
    }

    var isHealthy: Bool { healthyFlag.load(ordering: .relaxed) }
    func setHealthy(_ healthy: Bool) { healthyFlag.store(healthy, ordering: .relaxed) }

    var load: Int { inFlight.load(ordering: .relaxed) }
    func started() { inFlight.add(1, ordering: .relaxed) }
    func ended() { inFlight.subtract(1, ordering: .relaxed) }
}
