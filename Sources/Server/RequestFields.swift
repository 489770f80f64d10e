/// One request body decoded once: the route's own fields, the sampling fields both routes
/// share, and the fields asking for output Shardline cannot constrain. Each used to be a
/// separate JSONDecoder pass over the body, three parses of a prompt that may be megabytes.
/// The unsupported fields' decoding result is kept, not thrown, so that their error still comes
/// after the model-name check, where the routes have always raised it.
struct RequestFields<Route: Decodable & Sendable>: Decodable, Sendable {
    let route: Route
    let sampling: SamplingFields
    let unsupported: Result<UnsupportedFields, any Error>

    init(from decoder: any Decoder) throws {
        route = try Route(from: decoder)
        sampling = try SamplingFields(from: decoder)
        unsupported = Result { try UnsupportedFields(from: decoder) }
    }
}
