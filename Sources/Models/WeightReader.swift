import Compute
import ModelFormats

/// Reads named tensors from a checkpoint as f32 `Tensor`s, checking each shape against what
/// the config implies, so a mismatched checkpoint fails at load with the tensor's name.
/// Slices read only their rows and columns from the mapping (a shard never loads the whole).
struct WeightReader {
    let checkpoint: SafeTensorsCheckpoint

    func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let data = try checked(name, shape: shape)
        return Tensor(shape: shape, values: try data.floats())
    }

    /// Rows `rows` (and columns `cols`) of a [rows, cols] (or [rows]) tensor.
    func tensor(_ name: String, shape: [Int], rows: Range<Int>, cols: Range<Int>? = nil) throws -> Tensor {
        let data = try checked(name, shape: shape)
        let width = shape.count == 2 ? (cols ?? 0..<shape[1]).count : 0
        if rows == 0..<shape[0] && (cols == nil || width == shape[1]) {
            return Tensor(shape: shape, values: try data.floats())
        }
        return Tensor(shape: shape.count == 2 ? [rows.count, width] : [rows.count],
                      values: try data.floats(rows: rows, cols: cols))
    }

    private func checked(_ name: String, shape: [Int]) throws -> TensorData {
        let data = try checkpoint.tensor(name)
        guard data.shape == shape else {
            throw ModelFormatError.badTensor(path: data.path, tensor: name, reason: "shape \(data.shape), config implies \(shape)")
        }
        return data
    }

    func optionalTensor(_ name: String, shape: [Int]) throws -> Tensor? {
        checkpoint.contains(name) ? try tensor(name, shape: shape) : nil
    }

    /// Stacks row slices of several [rows_i, cols] weights (or [rows_i] biases when `cols` is 0)
    /// into one tensor, so q/k/v or gate/up run as a single GEMM.
    func fused(_ parts: [(name: String, rows: Int, slice: Range<Int>)], cols: Int) throws -> Tensor {
        let tensors = try parts.map { part in
            try tensor(part.name, shape: cols == 0 ? [part.rows] : [part.rows, cols], rows: part.slice)
        }
        let total = parts.reduce(0) { $0 + $1.slice.count }
        let out = Tensor(zeros: cols == 0 ? [total] : [total, cols])
        var offset = 0
        for t in tensors {
            (out.data + offset).update(from: t.data, count: t.count)
            offset += t.count
        }
        return out
    }
}
