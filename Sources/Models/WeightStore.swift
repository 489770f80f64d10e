import Compute

/// Where a model's weights come from, independent of file format: safetensors keep f32 (or
/// f16/bf16 widened) dense projections, GGUF keeps quantized blocks in the memory map.
public protocol WeightStore: Sendable {
    /// The file or directory, for error messages.
    var location: String { get }
    func contains(_ name: String) -> Bool
    /// A small f32 tensor (norm weights, biases) of exactly `count` elements.
    func vector(_ name: String, count: Int) throws -> Tensor
    /// A projection with weight [outFeatures, inFeatures].
    func linear(_ name: String, outFeatures: Int, inFeatures: Int) throws -> any LinearLayer
    func embedding(_ name: String, vocabSize: Int, hiddenSize: Int) throws -> any EmbeddingTable
}
