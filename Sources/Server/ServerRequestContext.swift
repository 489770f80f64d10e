import Hummingbird
import NIOCore

/// The request context of Shardline's routes: Hummingbird's core context plus the connection,
/// whose `ClientCloseWatcher` says whether the client is still there.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// A probe that turns false once the client has closed its connection; always true where the
    /// pipeline has no watcher (in-process tests).
    public func clientConnected() async -> @Sendable () -> Bool {
        guard let watcher = try? await channel.pipeline.handler(type: ClientCloseWatcher.self).get() else { return { true } }
        return { !watcher.clientClosed }
    }
}
