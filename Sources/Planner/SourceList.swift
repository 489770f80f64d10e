/// Where a catalog figure comes from. The catalog files write one source as a string and
/// several as an array; both decode to a list so callers never branch on the shape.
public struct SourceList: Sendable, Codable, Equatable {
    public var entries: [String]

    public init(_ entries: [String]) { self.entries = entries }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            entries = []
        } else if let one = try? container.decode(String.self) {
            entries = [one]
        } else {
            entries = try container.decode([String].self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(entries)
    }
}

/// A published parameter count ("70B") with its source; `value` is null where the catalog
/// found no published figure.
public struct PublishedCount: Sendable, Codable, Equatable {
    public var value: Double?
    public var published: String?
    public var source: SourceList?
}
