@testable import Planner

/// Catalog entries the tests use, looked up once.
enum Fixtures {
    static let catalog = Catalog.builtIn
    static func model(_ id: String) -> ModelSpec { try! catalog.model(id) }
    static func gpu(_ id: String) -> GPUSpec { try! catalog.gpu(id) }

    /// A cost model for one replica of `model` on H100 SXM GPUs in one node.
    static func costModel(_ id: String = "llama-3.1-8b", tp: Int = 1, pp: Int = 1, quantization: Quantization = .bf16) -> CostModel {
        let gpu = gpu("h100-sxm")
        let memory = MemoryModel(model: model(id), gpu: gpu, quantization: quantization)
        return CostModel(memory: memory, layout: ParallelLayout(tp: tp, pp: pp), cluster: Cluster(gpusPerNode: 8),
                         intraNodeLink: catalog.intraNodeLink(for: gpu), interNodeLink: try! catalog.link("infiniband-ndr"))
    }
}
