import Compute
import ModelFormats

/// Weights from a safetensors checkpoint, widened to f32 at load.
public struct SafeTensorsWeightStore: WeightStore {
    let reader: WeightReader
    /// How projections are held after load (`--dtype`, `--quantization`).
    let format: WeightFormat

    public init(checkpoint: SafeTensorsCheckpoint, format: WeightFormat = .float32) {
        reader = WeightReader(checkpoint: checkpoint)
        self.format = format
    }

    public var location: String { reader.checkpoint.directory }
    public func contains(_ name: String) -> Bool { reader.checkpoint.contains(name) }

    public func vector(_ name: String, count: Int) throws -> Tensor {
        try reader.tensor(name, shape: [count])
    }

    public func linear(_ name: String, outFeatures: Int, inFeatures: Int, rows: Range<Int>?, cols: Range<Int>?) throws -> any LinearLayer {
        format.linear(weight: try reader.tensor(name, shape: [outFeatures, inFeatures], rows: rows ?? 0..<outFeatures, cols: cols))
    }

    public func head(_ name: String, outFeatures: Int, inFeatures: Int, rows: Range<Int>?) throws -> any LinearLayer {
        Linear(weight: try reader.tensor(name, shape: [outFeatures, inFeatures], rows: rows ?? 0..<outFeatures))
    }

    /// Fused into one matrix (and one bias), so q/k/v or gate/up run as a single GEMM.
    public func stackedLinear(_ parts: [StackedPart], inFeatures: Int) throws -> any LinearLayer {
        let weight = try reader.fused(parts.map { ($0.name, $0.outFeatures, $0.rows ?? 0..<$0.outFeatures) }, cols: inFeatures)
        let biases = parts.compactMap(\.bias)
        let bias = biases.isEmpty ? nil
            : try reader.fused(parts.map { ($0.bias ?? "", $0.outFeatures, $0.rows ?? 0..<$0.outFeatures) }, cols: 0)
        return format.linear(weight: weight, bias: bias)
    }

    public func embedding(_ name: String, vocabSize: Int, hiddenSize: Int, rows: Range<Int>?) throws -> any EmbeddingTable {
        DenseEmbedding(weight: try reader.tensor(name, shape: [vocabSize, hiddenSize], rows: rows ?? 0..<vocabSize))
    }
}
