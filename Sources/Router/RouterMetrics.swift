import Metrics
import struct Prometheus.PrometheusMetricsFactory
import class Prometheus.PrometheusCollectorRegistry

/// The router's own Prometheus metrics, per backend: requests sent, requests in flight, health;
/// and requests moved to another backend after a connection failure.
final class RouterMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let requests: [Counter], running: [Gauge], healthy: [Gauge]
    private let failovers: Counter

    init(backends: [String]) {
        let factory = PrometheusMetricsFactory(registry: registry)
        requests = backends.map { Counter(label: "shardline:router_requests_total", dimensions: [("backend", $0)], factory: factory) }
        running = backends.map { Gauge(label: "shardline:router_requests_running", dimensions: [("backend", $0)], factory: factory) }
        healthy = backends.map { Gauge(label: "shardline:router_backend_healthy", dimensions: [("backend", $0)], factory: factory) }
        failovers = Counter(label: "shardline:router_failovers_total", dimensions: [], factory: factory)
    }

    func sent(to backend: Int) { requests[backend].increment() }
    func failedOver() { failovers.increment() }

    /// The Prometheus text exposition, with the gauges read now.
    func render(loads: [Int], health: [Bool]) -> String {
        for (i, load) in loads.enumerated() { running[i].record(load) }
        for (i, ok) in health.enumerated() { healthy[i].record(ok ? 1 : 0) }
        return registry.emitToString()
    }
}
