/// One accelerator from `Catalog/gpus.json`. Memory is the vendor label in binary units (an
/// "80 GB" H100 holds 80 GiB; see the catalog README); bandwidth in GB/s (1e9 B/s); TFLOPS dense.
public struct GPUSpec: Sendable, Codable, Equatable {
    public struct NVLink: Sendable, Codable, Equatable {
        public var generation: Int
        public var bidirectionalGBps: Double?
        /// Present for switched / SXM parts; absent where NVLink is only a 2-GPU bridge.
        public var links: Int?

        enum CodingKeys: String, CodingKey {
            case generation, links
            case bidirectionalGBps = "bidirectional_gbps_per_gpu"
        }
    }

    public struct InfinityFabric: Sendable, Codable, Equatable {
        public var links: Int
        public var perLinkBidirectionalGBps: Double

        enum CodingKeys: String, CodingKey {
            case links
            case perLinkBidirectionalGBps = "per_link_bidirectional_gbps"
        }
    }

    public var id: String
    public var name: String
    public var memoryBytes: Int
    public var memoryBandwidthGBps: Double
    public var fp16DenseTFLOPS: Double?
    public var bf16DenseTFLOPS: Double?
    public var fp8DenseTFLOPS: Double?
    public var int8DenseTOPS: Double?
    public var pcieGeneration: Int
    public var nvlink: NVLink?
    public var infinityFabric: InfinityFabric?
    public var source: SourceList
    public var note: String?
    /// True for a device whose rates were measured by running Shardline on it (achieved rates,
    /// not datasheet peaks): the cost model applies no efficiency factor to its GEMMs.
    public var measured: Bool?
    /// A measured device's rates while the other devices of its host are idle. The main rates
    /// are measured with every device of the host busy at once; devices that share cores and a
    /// memory bus (our CPU workers) run faster alone, as a pipeline stage does while a lone
    /// request's batch is the only one in the pipeline (`SimulatedExecutor`).
    public var alone: AloneRates?
    /// A measured device's time per sampled row per step beyond that row's bytes and FLOPs at the
    /// fitted rates: sampling over the vocabulary, per-request host work, and the LM head's
    /// kernel at its own rate (`DeviceFit`, from a batch decode step). Negative where the head's
    /// kernel runs faster per FLOP than the layers' prefill kernels.
    public var sampledRowSeconds: Double?
    /// A measured device's one-way hand-off to a peer of its host that waits parked
    /// (`bench-collectives --measure handoff`). Our executor's threads and worker processes park
    /// on a futex once a wait outlasts its spin, so between steps of a lone request every hop
    /// is a wake-up: the engine to the first stage, stage to stage, the tokens back. The link's
    /// latency (a spinning all-reduce's) does not hold it.
    public var parkedHandoffSeconds: Double?
    /// A measured device's share of the smaller of a GEMM's compute and weight-streaming times
    /// that adds to the larger: 1, they add (the cores unpack every block, then multiply); 0, a
    /// roofline max (streaming hides the multiplies). Fitted to a mid-sized decode step
    /// (`DeviceFit`); absent: 1.
    public var gemmSerialFraction: Double?

    public struct AloneRates: Sendable, Codable, Equatable {
        public var memoryBandwidthGBps: Double
        public var denseTFLOPS: Double

        public init(memoryBandwidthGBps: Double, denseTFLOPS: Double) {
            self.memoryBandwidthGBps = memoryBandwidthGBps
            self.denseTFLOPS = denseTFLOPS
        }

        enum CodingKeys: String, CodingKey {
            case memoryBandwidthGBps = "memory_bandwidth_gbps"
            case denseTFLOPS = "dense_tflops"
        }
    }

    /// This device with its alone rates as its rates (nil when it has none).
    public var runningAlone: GPUSpec? {
        guard let alone else { return nil }
        var g = self
        g.memoryBandwidthGBps = alone.memoryBandwidthGBps
        g.fp16DenseTFLOPS = alone.denseTFLOPS
        g.bf16DenseTFLOPS = alone.denseTFLOPS
        g.alone = nil
        return g
    }

    enum CodingKeys: String, CodingKey {
        case id, name, nvlink, source, note, measured, alone
        case sampledRowSeconds = "sampled_row_seconds"
        case parkedHandoffSeconds = "parked_handoff_seconds"
        case gemmSerialFraction = "gemm_serial_fraction"
        case memoryBytes = "memory_bytes_nominal"
        case memoryBandwidthGBps = "memory_bandwidth_gbps"
        case fp16DenseTFLOPS = "fp16_dense_tflops"
        case bf16DenseTFLOPS = "bf16_dense_tflops"
        case fp8DenseTFLOPS = "fp8_dense_tflops"
        case int8DenseTOPS = "int8_dense_tops"
        case pcieGeneration = "pcie_gen"
        case infinityFabric = "infinity_fabric"
    }

    public var memoryBandwidth: Double { memoryBandwidthGBps * 1e9 }
    public var isMeasured: Bool { measured ?? false }
}
