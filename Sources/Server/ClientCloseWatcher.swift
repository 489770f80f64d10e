import Hummingbird
import NIOCore
import Synchronization

/// Notices a client that closes its connection while its request runs. Hummingbird allows
/// remote half-closure, so the end of the client's input arrives as `inputClosed` and the
/// channel stays active; a non-streaming generation writes nothing until it ends, so nothing
/// else would notice. Like vLLM (uvicorn's `http.disconnect`), the end of input counts as the
/// client leaving. One per connection, in the HTTP/1 pipeline.
public final class ClientCloseWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    public typealias InboundIn = Never  // parts pass through untouched

    private let closed = Atomic<Bool>(false)
    public var clientClosed: Bool { closed.load(ordering: .relaxed) }

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { closed.store(true, ordering: .relaxed) }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        closed.store(true, ordering: .relaxed)
        context.fireChannelInactive()
    }
}
