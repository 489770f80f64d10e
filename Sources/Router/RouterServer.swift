import AsyncHTTPClient
import Engine
import Foundation
import Hummingbird
import Logging
import Server
import Synchronization

/// `shardline router`: the data-parallel front door for replicas on several machines. Each
/// request goes to one healthy backend, picked by `ReplicaRouter` (the policy `serve -dp` and the
/// simulator use) over the request's text (`PromptKey`) and each backend's requests in flight;
/// the response, streamed or whole, is passed through as it arrives. A backend that cannot be
/// reached is marked unhealthy and the request tried on another; health checks of `/health`
/// bring it back.
public final class RouterServer: Sendable {
    public struct Config: Sendable {
        public var backends: [String]
        public var routing: RoutingPolicy
        public var host = "127.0.0.1"
        public var port = 8080
        /// Seconds between health checks of every backend.
        public var healthInterval = 5.0
        public var requestTimeout = 3600.0
        /// Characters per block of the text prefix-aware routing remembers.
        public var blockCharacters = 64

        public init(backends: [String], routing: RoutingPolicy = .prefixAware) {
            self.backends = backends
            self.routing = routing
        }
    }

    public let config: Config
    let backends: [Backend]
    private let picker: Mutex<ReplicaRouter>
    private let http: HTTPClient
    private let metrics: RouterMetrics
    /// Loads given to the picker for backends it must not choose.
    private static let unavailable = Int.max / 4

    public init(config: Config) {
        precondition(!config.backends.isEmpty, "a router needs backends")
        self.config = config
        backends = config.backends.map(Backend.init)
        picker = Mutex(ReplicaRouter(replicas: backends.count, policy: config.routing, blockSize: config.blockCharacters))
        var client = HTTPClient.Configuration()
        client.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 512
        client.connectionPool.retryConnectionEstablishment = false
        client.timeout.connect = .seconds(5)
        client.decompression = .disabled
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: client)
        metrics = RouterMetrics(backends: backends.map(\.url))
    }

    public func shutdown() async { try? await http.shutdown() }

    public var healthyBackends: [String] { backends.filter(\.isHealthy).map(\.url) }

    public func router() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        router.get("health") { _, _ in
            self.backends.contains(where: \.isHealthy) ? Response(status: .ok) : Self.error(.serviceUnavailable, "no backend is healthy")
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: self.metrics.render(loads: self.backends.map(\.load),
                                                                                   health: self.backends.map(\.isHealthy)))))
        }
        router.get("v1/models") { request, _ in try await self.forward(request, body: nil, key: [], clientConnected: { true }) }
        router.post("v1/completions") { request, context in try await self.forward(request, context) }
        router.post("v1/chat/completions") { request, context in try await self.forward(request, context) }
        router.post("tokenize") { request, context in try await self.forward(request, context) }
        router.post("detokenize") { request, context in try await self.forward(request, context) }
        return router
    }

    public func application(logger: Logger = Logger(label: "shardline.router")) -> some ApplicationProtocol {
        Application(router: router(), server: .http1(configuration: .init(additionalChannelHandlers: [ClientCloseWatcher()])),
                    configuration: .init(address: .hostname(config.host, port: config.port), serverName: "shardline-router"), logger: logger)
    }

    /// Checks every backend's `/health` once; a backend answering 200 is healthy.
    public func checkHealth() async {
        await withTaskGroup(of: Void.self) { group in
            for backend in backends {
                group.addTask {
                    let response = try? await self.http.execute(HTTPClientRequest(url: backend.url + "/health"), timeout: .seconds(2))
                    backend.setHealthy(response?.status.code == 200)
                }
            }
        }
    }

    /// Health checks every `healthInterval` seconds until cancelled.
    public func runHealthChecks() async {
        while !Task.isCancelled {
            await checkHealth()
            try? await Task.sleep(for: .milliseconds(Int64(config.healthInterval * 1000)))
        }
    }

    private func forward(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let body: Data
        do {
            body = Data(buffer: try await request.body.collect(upTo: 64 << 20))
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return Self.error(.contentTooLarge, "the request body is larger than the router's limit of 64 MiB")
        }
        return try await forward(request, body: body, key: PromptKey.of(body), clientConnected: await context.clientConnected())
    }

    /// Sends the request to a backend, the next one if it cannot be reached, and streams back
    /// whatever the backend answers (errors included). A client that leaves before the
    /// response head (a non-streaming request still generating) cancels the upstream request,
    /// which the replica sees as its own client leaving.
    private func forward(_ request: Request, body: Data?, key: [Int], clientConnected: @escaping @Sendable () -> Bool) async throws -> Response {
        var tried = Set<Int>()
        while let index = pick(key, excluding: tried) {
            tried.insert(index)
            let backend = backends[index]
            var upstream = HTTPClientRequest(url: backend.url + request.uri.path + (request.uri.query.map { "?" + $0 } ?? ""))
            upstream.method = body == nil ? .GET : .POST
            upstream.headers.add(name: "Content-Type", value: request.headers[.contentType] ?? "application/json")
            if let auth = request.headers[.authorization] { upstream.headers.add(name: "Authorization", value: auth) }
            if let body { upstream.body = .bytes(ByteBuffer(bytes: body)) }
            backend.started()
            let response: HTTPClientResponse
            do {
                let prepared = upstream
                response = try await untilClientLeaves(clientConnected) {
                    try await self.http.execute(prepared, timeout: .milliseconds(Int64(self.config.requestTimeout * 1000)))
                }
            } catch is CancellationError {
                backend.ended()
                throw CancellationError()
            } catch {
                backend.ended()
                backend.setHealthy(false)
                metrics.failedOver()
                continue
            }
            metrics.sent(to: index)
            var headers: HTTPFields = [:]
            headers[.contentType] = response.headers.first(name: "Content-Type") ?? "application/json"
            if let cache = response.headers.first(name: "Cache-Control") { headers[.cacheControl] = cache }
            return Response(status: .init(code: Int(response.status.code)), headers: headers, body: ResponseBody { writer in
                defer { backend.ended() }
                for try await chunk in response.body { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
        }
        return Self.error(.serviceUnavailable, "no backend could be reached: \(backends.map(\.url).joined(separator: ", "))")
    }

    /// `work`, cancelled (CancellationError) if `clientConnected` turns false first; checked every 50 ms.
    private func untilClientLeaves<T: Sendable>(_ clientConnected: @escaping @Sendable () -> Bool,
                                                _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                while clientConnected() { try await Task.sleep(for: .milliseconds(50)) }
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw CancellationError() }
            return value
        }
    }

    /// The backend for a request, among the healthy ones not yet tried; nil when none is left.
    private func pick(_ key: [Int], excluding tried: Set<Int>) -> Int? {
        let loads = backends.indices.map { i in backends[i].isHealthy && !tried.contains(i) ? backends[i].load : Self.unavailable }
        guard let least = loads.indices.min(by: { loads[$0] < loads[$1] }), loads[least] < Self.unavailable else { return nil }
        let chosen = picker.withLock { $0.route(key, loads: loads) }
        return loads[chosen] < Self.unavailable ? chosen : least
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let type = status == .serviceUnavailable ? "ServiceUnavailableError" : "BadRequestError"
        let body: [String: Any] = ["error": ["message": message, "type": type, "param": NSNull(), "code": status.code]]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
