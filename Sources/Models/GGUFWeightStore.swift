import Compute
import ModelFormats

/// Weights from a GGUF file. GGUF stores a [rows, cols] matrix with ne = [cols, rows].
public struct GGUFWeightStore: WeightStore {
    public let file: GGUFFile

    public init(file: GGUFFile) { self.file = file }

    public var location: String { file.path }
    public func contains(_ name: String) -> Bool { file.tensor(named: name) != nil }

    func tensor(_ name: String, shape: [Int]) throws -> GGUFTensor {
        let t = try file.requireTensor(named: name)
        guard t.shape == shape else {
            throw ModelFormatError.badTensor(path: file.path, tensor: name, reason: "shape \(t.shape), the model needs \(shape)")
        }
        return t
    }

    public func vector(_ name: String, count: Int) throws -> Tensor {
        let t = try tensor(name, shape: [count])
        return Tensor(shape: [count], values: try dense(t))
    }

    public func linear(_ name: String, outFeatures: Int, inFeatures: Int) throws -> any LinearLayer {
        let t = try tensor(name, shape: [outFeatures, inFeatures])
        return Linear(weight: Tensor(shape: [outFeatures, inFeatures], values: try dense(t)))
    }

    public func embedding(_ name: String, vocabSize: Int, hiddenSize: Int) throws -> any EmbeddingTable {
        let t = try tensor(name, shape: [vocabSize, hiddenSize])
        return DenseEmbedding(weight: Tensor(shape: [vocabSize, hiddenSize], values: try dense(t)))
    }

    /// F32/F16/BF16 tensors widened to f32.
    private func dense(_ t: GGUFTensor) throws -> [Float] {
        guard !t.type.isQuantized else {
            throw ModelFormatError.badTensor(path: file.path, tensor: t.name, reason: "\(t.type.name) weights need the quantized kernels")
        }
        return try t.tensorData().floats()
    }
}
