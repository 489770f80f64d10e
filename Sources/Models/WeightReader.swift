import Compute
import ModelFormats

/// Reads named tensors from a checkpoint as f32 `Tensor`s, checking each shape against what
/// the config implies, so a mismatched checkpoint fails at load with the tensor's name.
struct WeightReader {
    let checkpoint: SafeTensorsCheckpoint

    func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let data = try checkpoint.tensor(name)
        guard data.shape == shape else {
            throw ModelFormatError.badTensor(path: data.path, tensor: name, reason: "shape \(data.shape), config implies \(shape)")
        }
        return Tensor(shape: shape, values: try data.floats())
    }

    func optionalTensor(_ name: String, shape: [Int]) throws -> Tensor? {
        checkpoint.contains(name) ? try tensor(name, shape: shape) : nil
    }

    /// Stacks several [rows_i, cols] weights into one [Σ rows_i, cols] tensor, so q/k/v or
    /// gate/up run as a single GEMM.
    func fused(_ names: [String], rows: [Int], cols: Int) throws -> Tensor {
        let parts = try zip(names, rows).map { try tensor($0.0, shape: cols == 0 ? [$0.1] : [$0.1, cols]) }
        let total = rows.reduce(0, +)
        let out = Tensor(zeros: cols == 0 ? [total] : [total, cols])
        var offset = 0
        for part in parts {
            (out.data + offset).update(from: part.data, count: part.count)
            offset += part.count
        }
        return out
    }
}
