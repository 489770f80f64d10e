import Engine
import Foundation
import Metrics
import struct Prometheus.PrometheusMetricsFactory
import class Prometheus.PrometheusCollectorRegistry
import Synchronization

/// vLLM's metrics under the `shardline:` prefix, fed by the engine loop and rendered for
/// `/metrics`. A private Prometheus registry per server, reached through swift-metrics with an
/// explicit factory, so several servers in one process (tests) never share counters.
public final class ServerMetrics: EngineObserver, @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let running: Gauge, waiting: Gauge, kvUsage: Gauge
    private let promptTokens: Counter, generationTokens: Counter, preemptions: Counter
    private let prefixQueries: Counter, prefixHits: Counter
    private let ttft: Recorder, itl: Recorder, e2e: Recorder, queueTime: Recorder
    private let factory: PrometheusMetricsFactory
    private let labels: [(String, String)]
    private let state = Mutex(State())
    private let log: (@Sendable (String) -> Void)?
    private let logInterval: Double
    /// `request_success_total` per finish reason (a closed set).
    private let success: [FinishReason: Counter]

    struct State {
        var requests: [RequestID: Timing] = [:]
        var last = SchedulerStats()
        var lastLogTime = 0.0
        var promptSinceLog = 0
        var generatedSinceLog = 0
    }

    struct Timing {
        var queued: Double
        var lastToken: Double?
    }

    /// Logs vLLM's periodic line through `log` every `logInterval` seconds of engine time.
    public init(modelName: String, logInterval: Double = 5, log: (@Sendable (String) -> Void)? = nil) {
        var factory = PrometheusMetricsFactory(registry: registry)
        // vLLM's buckets, in seconds.
        factory.valueHistogramBuckets = [
            "shardline:time_to_first_token_seconds": [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0],
            "shardline:inter_token_latency_seconds": [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0],
            "shardline:e2e_request_latency_seconds": [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0],
            "shardline:request_queue_time_seconds": [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0],
        ]
        self.factory = factory
        labels = [("model_name", modelName)]
        self.log = log
        self.logInterval = logInterval
        running = Gauge(label: "shardline:num_requests_running", dimensions: labels, factory: factory)
        waiting = Gauge(label: "shardline:num_requests_waiting", dimensions: labels, factory: factory)
        kvUsage = Gauge(label: "shardline:kv_cache_usage_perc", dimensions: labels, factory: factory)
        promptTokens = Counter(label: "shardline:prompt_tokens_total", dimensions: labels, factory: factory)
        generationTokens = Counter(label: "shardline:generation_tokens_total", dimensions: labels, factory: factory)
        preemptions = Counter(label: "shardline:num_preemptions_total", dimensions: labels, factory: factory)
        prefixQueries = Counter(label: "shardline:prefix_cache_queries_total", dimensions: labels, factory: factory)
        prefixHits = Counter(label: "shardline:prefix_cache_hits_total", dimensions: labels, factory: factory)
        ttft = Recorder(label: "shardline:time_to_first_token_seconds", dimensions: labels, factory: factory)
        itl = Recorder(label: "shardline:inter_token_latency_seconds", dimensions: labels, factory: factory)
        e2e = Recorder(label: "shardline:e2e_request_latency_seconds", dimensions: labels, factory: factory)
        queueTime = Recorder(label: "shardline:request_queue_time_seconds", dimensions: labels, factory: factory)
        var success: [FinishReason: Counter] = [:]
        for reason in [FinishReason.stop, .length, .abort] {
            success[reason] = Counter(label: "shardline:request_success_total",
                                      dimensions: labels + [("finished_reason", reason.rawValue)], factory: factory)
        }
        self.success = success
    }

    /// The Prometheus text exposition.
    public func render() -> String { registry.emitToString() }

    public func engineStepped(stats: SchedulerStats, events: [EngineEvent], outputs: [RequestOutput], now: Double) {
        running.record(stats.numRunning)
        waiting.record(stats.numWaiting)
        kvUsage.record(stats.kvCacheUsage)
        state.withLock { s in
            preemptions.increment(by: Int64(stats.numPreemptionsTotal - s.last.numPreemptionsTotal))
            prefixQueries.increment(by: Int64(stats.prefixCacheQueries - s.last.prefixCacheQueries))
            prefixHits.increment(by: Int64(stats.prefixCacheHits - s.last.prefixCacheHits))
            for event in events {
                switch event.kind {
                case .queued:
                    s.requests[event.requestId] = Timing(queued: event.time)
                case .scheduled:
                    if let t = s.requests[event.requestId] { queueTime.record(event.time - t.queued) }
                case .firstToken, .preempted, .finished:
                    break
                }
            }
            for output in outputs {
                for (i, sample) in output.outputs.enumerated() where !sample.deltaTokenIds.isEmpty || sample.finishReason != nil {
                    let id = output.outputs.count == 1 ? output.requestId : "\(i)_\(output.requestId)"
                    guard var timing = s.requests[id] else { continue }
                    let n = sample.deltaTokenIds.count
                    if n > 0 {
                        if let last = timing.lastToken {
                            itl.record((now - last) / Double(n))
                        } else {
                            ttft.record(now - timing.queued)
                            promptTokens.increment(by: Int64(output.promptTokenIds.count))
                            s.promptSinceLog += output.promptTokenIds.count
                        }
                        timing.lastToken = now
                        generationTokens.increment(by: Int64(n))
                        s.generatedSinceLog += n
                    }
                    if let reason = sample.finishReason {
                        e2e.record(now - timing.queued)
                        success[reason]?.increment()
                        s.requests[id] = nil
                    } else {
                        s.requests[id] = timing
                    }
                }
            }
            logIfDue(&s, stats: stats, now: now)
            s.last = stats
        }
    }

    /// Aborted requests never come back as outputs; count them here (each sample of `n`).
    public func requestAborted(_ id: RequestID) {
        state.withLock { s in
            for key in s.requests.keys where key == id || key.hasSuffix("_\(id)") {
                s.requests[key] = nil
                success[.abort]?.increment()
            }
        }
    }

    private func logIfDue(_ s: inout State, stats: SchedulerStats, now: Double) {
        guard let log else { return }
        if s.lastLogTime == 0 { s.lastLogTime = now }
        let elapsed = now - s.lastLogTime
        guard elapsed >= logInterval else { return }
        let queries = stats.prefixCacheQueries
        let hitRate = queries > 0 ? 100 * Double(stats.prefixCacheHits) / Double(queries) : 0
        log(String(format: "Avg prompt throughput: %.1f tokens/s, Avg generation throughput: %.1f tokens/s, Running: %d reqs, Waiting: %d reqs, GPU KV cache usage: %.1f%%, Prefix cache hit rate: %.1f%%",
                   Double(s.promptSinceLog) / elapsed, Double(s.generatedSinceLog) / elapsed, stats.numRunning, stats.numWaiting,
                   100 * stats.kvCacheUsage, hitRate))
        s.lastLogTime = now
        s.promptSinceLog = 0
        s.generatedSinceLog = 0
    }
}
