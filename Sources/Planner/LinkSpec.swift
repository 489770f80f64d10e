/// An interconnect from `Catalog/links.json`: bandwidth per direction (the figure a ring
/// all-reduce or a point-to-point send sees) and a per-message latency.
public struct LinkSpec: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var kind: String
    public var bandwidthGBpsPerDirection: Double
    public var latencyMicroseconds: Double
    public var source: SourceList
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case id, name, kind, source, note
        case bandwidthGBpsPerDirection = "bandwidth_gbps_per_direction"
        case latencyMicroseconds = "latency_us"
    }

    public init(id: String, name: String, kind: String, bandwidthGBpsPerDirection: Double,
                latencyMicroseconds: Double, source: SourceList, note: String? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.bandwidthGBpsPerDirection = bandwidthGBpsPerDirection
        self.latencyMicroseconds = latencyMicroseconds
        self.source = source
        self.note = note
    }

    public var bandwidth: Double { bandwidthGBpsPerDirection * 1e9 }
    public var latency: Double { latencyMicroseconds * 1e-6 }
}
