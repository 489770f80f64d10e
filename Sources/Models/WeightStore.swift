import Compute

/// Where a model's weights come from, independent of file format: safetensors keep f32 (or
/// f16/bf16 widened) dense projections, GGUF keeps quantized blocks in the memory map.
public protocol WeightStore: Sendable {
    /// The file or directory, for error messages.
    var location: String { get }
    func contains(_ name: String) -> Bool
    /// A small f32 tensor (norm weights, biases) of exactly `count` elements.
    func vector(_ name: String, count: Int) throws -> Tensor
    /// Rows `rows` and columns `cols` of a projection with weight [outFeatures, inFeatures]
    /// (nil: all), read without loading the rest: a tensor-parallel shard.
    func linear(_ name: String, outFeatures: Int, inFeatures: Int, rows: Range<Int>?, cols: Range<Int>?) throws -> any LinearLayer
    /// Vocabulary rows `rows` (nil: all) of a [vocabSize, hiddenSize] embedding.
    func embedding(_ name: String, vocabSize: Int, hiddenSize: Int, rows: Range<Int>?) throws -> any EmbeddingTable
}

extension WeightStore {
    /// A whole projection with weight [outFeatures, inFeatures].
    public func linear(_ name: String, outFeatures: Int, inFeatures: Int) throws -> any LinearLayer {
        try linear(name, outFeatures: outFeatures, inFeatures: inFeatures, rows: nil, cols: nil)
    }

    public func embedding(_ name: String, vocabSize: Int, hiddenSize: Int) throws -> any EmbeddingTable {
        try embedding(name, vocabSize: vocabSize, hiddenSize: hiddenSize, rows: nil)
    }
}
