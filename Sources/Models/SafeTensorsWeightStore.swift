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

    public func embedding(_ name: String, vocabSize: Int, hiddenSize: Int, rows: Range<Int>?) throws -> any EmbeddingTable {
        DenseEmbedding(weight: try reader.tensor(name, shape: [vocabSize, hiddenSize], rows: rows ?? 0..<vocabSize))
    }
}
