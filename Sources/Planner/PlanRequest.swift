/// What `shardline plan` is asked: a model on some GPUs, at a load.
public struct PlanRequest: Sendable {
    public var model: ModelSpec
    public var gpu: GPUSpec
    public var cluster: Cluster
    public var quantization: Quantization = .bf16
    /// `--max-model-len`; nil means the model's own maximum, as vLLM defaults.
    public var maxModelLen: Int?
    /// Requests in flight at once (the benchmark client's --max-concurrency), over all replicas.
    public var concurrency: Int = 64
    public var utilization: Double = 0.9
    /// Token lengths of the simulated requests.
    public var promptTokens: Int = 512
    public var outputTokens: Int = 128
    public var kvBytesPerElement: Int = 2
    /// nil: the GPU's own link (switched NVLink, xGMI or PCIe; see `Catalog.intraNodeLink`).
    public var intraNodeLink: LinkSpec?
    public var interNodeLink: LinkSpec
    public var maxNumBatchedTokens = 2048
    public var maxNumSeqs = 256
    public var blockSize = 16
    /// Skip the simulation (memory and fit only), for quick answers.
    public var simulate = true

    public init(model: ModelSpec, gpu: GPUSpec, cluster: Cluster, interNodeLink: LinkSpec) {
        self.model = model
        self.gpu = gpu
        self.cluster = cluster
        self.interNodeLink = interNodeLink
    }

    /// Looks the names up in a catalog (the CLI's path).
    public init(catalog: Catalog = .builtIn, model: String, gpu: String, cluster: Cluster,
                interNodeLink: String = Catalog.defaultInterNodeLinkId) throws {
        self.init(model: try catalog.model(model), gpu: try catalog.gpu(gpu), cluster: cluster,
                  interNodeLink: try catalog.link(interNodeLink))
    }

    public var effectiveMaxModelLen: Int { maxModelLen ?? model.maxPositionEmbeddings }

    var memoryModel: MemoryModel {
        MemoryModel(model: model, gpu: gpu, quantization: quantization, kvBytesPerElement: kvBytesPerElement,
                    utilization: utilization, blockSize: blockSize, maxNumBatchedTokens: maxNumBatchedTokens, maxNumSeqs: maxNumSeqs)
    }

    /// The simulated request shape, shortened to fit `--max-model-len` when it would not.
    var requestShape: (prompt: Int, output: Int) {
        let len = effectiveMaxModelLen
        let output = max(1, min(outputTokens, len / 2))
        return (max(1, min(promptTokens, len - output)), output)
    }
}
