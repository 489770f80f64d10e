import Foundation

/// The models, GPUs and links the planner knows, loaded from the JSON files in `Catalog/`
/// (SwiftPM resources, so the data and its sources stay reviewable as data, not code).
public struct Catalog: Sendable {
    public var models: [ModelSpec]
    public var gpus: [GPUSpec]
    public var links: [LinkSpec]

    public init(models: [ModelSpec], gpus: [GPUSpec], links: [LinkSpec]) {
        self.models = models
        self.gpus = gpus
        self.links = links
    }

    /// The catalog shipped with the module (empty when its files cannot be found or read; the
    /// CLI loads with `load()` to report why).
    public static let builtIn: Catalog = (try? load()) ?? Catalog(models: [], gpus: [], links: [])

    /// Where the JSON files are: SwiftPM's resource bundle beside the executable (SwiftPM's own
    /// `Bundle.module` traps when it is missing, e.g. a binary copied elsewhere), else the
    /// source tree this module was built from.
    static func directory() -> URL? {
        let exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        let candidates = [
            exe.deletingLastPathComponent().appendingPathComponent("Shardline_Planner.resources/Catalog"),
            Bundle.main.bundleURL.appendingPathComponent("Shardline_Planner.resources/Catalog"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Catalog"),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("models.json").path) }
    }

    public static func load() throws -> Catalog {
        guard let dir = directory() else {
            throw PlannerError.invalidModelConfig("the planner's catalog (Shardline_Planner.resources/Catalog beside the shardline binary) is missing; copy it with the binary")
        }
        func decode<T: Decodable>(_ name: String, as: T.Type) throws -> T {
            try JSONDecoder().decode(T.self, from: Data(contentsOf: dir.appendingPathComponent("\(name).json")))
        }
        return Catalog(models: try decode("models", as: [ModelSpec].self),
                       gpus: try decode("gpus", as: [GPUSpec].self),
                       links: try decode("links", as: [LinkSpec].self))
    }

    /// A GPU described in a JSON file (one `gpus.json` entry), e.g. from `plan --profile-device`.
    public static func gpu(file: String) throws -> GPUSpec {
        let gpu: GPUSpec
        do {
            gpu = try JSONDecoder().decode(GPUSpec.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw PlannerError.invalidModelConfig("\(file): not a GPU spec (\(error))")
        }
        // A share outside [0, 1] would make a GEMM cheaper than its slower bound, or dearer than both added.
        if let share = gpu.gemmSerialFraction, !(0...1).contains(share) {
            throw PlannerError.invalidModelConfig("\(file): gemm_serial_fraction must be between 0 and 1, got \(share)")
        }
        return gpu
    }

    /// What `--model` names: a catalog id, or a Hugging Face config.json path.
    public func model(idOrConfigPath name: String) throws -> ModelSpec {
        name.hasSuffix(".json") ? try ModelSpec(huggingFaceConfigAt: name) : try model(name)
    }

    /// What `--gpu` / `--gpu-file` name: a spec file when given, else a catalog id.
    public func gpu(id: String?, file: String?) throws -> GPUSpec {
        if let file { return try Self.gpu(file: file) }
        guard let id else { throw PlannerError.invalidRequest("give --gpu or --gpu-file") }
        return try gpu(id)
    }

    public func model(_ id: String) throws -> ModelSpec {
        guard let m = models.first(where: { $0.id == id.lowercased() }) else {
            throw PlannerError.unknown(kind: "model", id: id, known: models.map(\.id))
        }
        return m
    }

    public func gpu(_ id: String) throws -> GPUSpec {
        guard let g = gpus.first(where: { $0.id == id.lowercased() }) else {
            throw PlannerError.unknown(kind: "GPU", id: id, known: gpus.map(\.id))
        }
        return g
    }

    public func link(_ id: String) throws -> LinkSpec {
        guard let l = links.first(where: { $0.id == id.lowercased() }) else {
            throw PlannerError.unknown(kind: "link", id: id, known: links.map(\.id))
        }
        return l
    }

    /// The link between GPUs of one node. Switched NVLink (SXM parts, which list their link
    /// count) by generation; AMD's xGMI mesh from the GPU entry (a ring hop uses one peer link);
    /// otherwise PCIe of the card's generation: NVLink bridges join only pairs, so a ring over
    /// more than two such cards runs at PCIe speed.
    public func intraNodeLink(for gpu: GPUSpec) -> LinkSpec {
        // A measured CPU device (pcie_gen 0): its devices are processes sharing memory.
        if gpu.pcieGeneration == 0, let l = try? link("shared-memory") { return l }
        if let nv = gpu.nvlink, nv.links != nil {
            let id = ["3": "nvlink3-a100", "4": "nvlink4-h100", "5": "nvlink5-b200"]["\(nv.generation)"]
            if let id, let l = try? link(id) { return l }
        }
        if let fabric = gpu.infinityFabric {
            return LinkSpec(id: "\(gpu.id)-xgmi", name: "\(gpu.name) xGMI peer link", kind: "xgmi",
                            bandwidthGBpsPerDirection: fabric.perLinkBidirectionalGBps / 2, latencyMicroseconds: 8,
                            source: SourceList(["gpus.json \(gpu.id) infinity_fabric (per-link bidirectional / 2)"]),
                            note: "latency 8 us ASSUMPTION, as for NVLink")
        }
        return (try? link("pcie-gen\(gpu.pcieGeneration)-x16")) ?? links[0]
    }

    /// Between nodes: InfiniBand NDR (400 Gb/s, one NIC per GPU), the common fabric of H100-class
    /// clusters; a plan names another with `interNodeLink`.
    public static let defaultInterNodeLinkId = "infiniband-ndr"
}
