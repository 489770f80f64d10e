import Compute
import ModelFormats

/// Weights from a GGUF file. Quantized and half-precision matrices are placed in one
/// huge-page arena (repacked for decode where their type has such a layout) and run through
/// the quantized kernels; small vectors (norms) are widened to f32.
/// GGUF stores a [rows, cols] matrix with ne = [cols, rows].
public struct GGUFWeightStore: WeightStore {
    public let file: GGUFFile
    /// llama.cpp's converter stores Llama-architecture q/k rows permuted for GGML's interleaved
    /// RoPE (not Qwen2's or Gemma's, which use NeoX RoPE); true undoes it at load.
    public let undoRopePermutation: Bool
    /// Where the matrices go: sized for every tensor in the file (a tensor-parallel shard
    /// touches only its part; untouched address space costs nothing).
    let arena: WeightArena

    public init(file: GGUFFile, undoRopePermutation: Bool = false) {
        self.file = file
        self.undoRopePermutation = undoRopePermutation
        arena = WeightArena(capacity: file.tensors.reduce(0) { $0 + $1.bytes.count + 64 })
    }

    public func projection(_ name: String, outFeatures: Int, inFeatures: Int, rows: Range<Int>?, cols: Range<Int>?,
                           ropeHeads: Int?) throws -> any LinearLayer {
        guard undoRopePermutation, let heads = ropeHeads else {
            return try linear(name, outFeatures: outFeatures, inFeatures: inFeatures, rows: rows, cols: cols)
        }
        // File row (h, 2j + t) holds Hugging Face row (h, t·d/2 + j): pick file rows in HF order.
        let d = outFeatures / heads, half = d / 2
        var order: [Int] = []
        for h in 0..<heads {
            for hfRow in 0..<d { order.append(h * d + 2 * (hfRow % half) + hfRow / half) }
        }
        let keep = rows.map { Array(order[$0]) } ?? order
        let t = try tensor(name, shape: [outFeatures, inFeatures])
        if t.type == .f32 {
            let data = try t.tensorData()
            var values: [Float] = []
            values.reserveCapacity(keep.count * inFeatures)
            for r in keep { values += try data.floats(rows: r..<(r + 1)) }
            return Linear(weight: Tensor(shape: [keep.count, inFeatures], values: values))
        }
        return QuantizedLinear(weight: try matrix(t).gatheringRows(keep).placed(in: arena))
    }

    public var location: String { file.path }
    public func contains(_ name: String) -> Bool { lookup(name) != nil }

    /// A tensor by name; an expert's `blk.N.ffn_gate.E.weight` (how early Mixtral GGUFs store
    /// experts) is also found as slab E of the merged `blk.N.ffn_gate_exps.weight` that
    /// llama.cpp writes now.
    func lookup(_ name: String) -> GGUFTensor? {
        if let t = file.tensor(named: name) { return t }
        let parts = name.split(separator: ".")
        guard parts.count == 5, parts[0] == "blk", parts[4] == "weight", parts[2].hasPrefix("ffn_"), let expert = Int(parts[3]),
              let merged = file.tensor(named: "blk.\(parts[1]).\(parts[2])_exps.weight") else { return nil }
        return merged.slab(expert)
    }

    func tensor(_ name: String, shape: [Int]) throws -> GGUFTensor {
        guard let t = lookup(name) else { return try file.requireTensor(named: name) }
        guard t.shape == shape else {
            throw ModelFormatError.badTensor(path: file.path, tensor: name, reason: "shape \(t.shape), the model needs \(shape)")
        }
        return t
    }

    public func vector(_ name: String, count: Int) throws -> Tensor {
        let t = try tensor(name, shape: [count])
        return Tensor(shape: [count], values: try dense(t))
    }

    public func linear(_ name: String, outFeatures: Int, inFeatures: Int, rows: Range<Int>?, cols: Range<Int>?) throws -> any LinearLayer {
        let t = try tensor(name, shape: [outFeatures, inFeatures])
        if t.type == .f32 {
            return Linear(weight: try t.tensorData().floatsTensor(shape: [outFeatures, inFeatures], rows: rows, cols: cols))
        }
        return QuantizedLinear(weight: try slice(try matrix(t), rows: rows, cols: cols, name: name).placed(in: arena))
    }

    public func embedding(_ name: String, vocabSize: Int, hiddenSize: Int, rows: Range<Int>?) throws -> any EmbeddingTable {
        let t = try tensor(name, shape: [vocabSize, hiddenSize])
        if t.type == .f32 {
            return DenseEmbedding(weight: try t.tensorData().floatsTensor(shape: [vocabSize, hiddenSize], rows: rows, cols: nil))
        }
        return QuantizedEmbedding(matrix: try slice(try matrix(t), rows: rows, cols: nil, name: name).placed(in: arena))
    }

    private func slice(_ m: QuantizedMatrix, rows: Range<Int>?, cols: Range<Int>?, name: String) throws -> QuantizedMatrix {
        guard rows != nil || cols != nil else { return m }
        guard let s = m.slice(rows: rows ?? 0..<m.rows, cols: cols) else {
            throw ModelFormatError.badTensor(path: file.path, tensor: name, reason: "columns \(cols!) do not fall on \(m.type)'s blocks of \(m.type.blockSize); choose another --tensor-parallel-size")
        }
        return s
    }

    /// The tensor's blocks, borrowed from the mapping.
    private func matrix(_ t: GGUFTensor) throws -> QuantizedMatrix {
        guard let type = QuantType(rawValue: Int(t.type.rawValue)) else {
            throw ModelFormatError.badTensor(path: file.path, tensor: t.name, reason: "\(t.type.name) weights are not supported yet; supported: \(QuantType.allCases.map(\.description).joined(separator: ", "))")
        }
        return QuantizedMatrix(type: type, rows: t.rowCount, cols: t.rowLength, bytes: t.bytes, owner: t.mapping)
    }

    /// F32/F16/BF16 tensors widened to f32.
    private func dense(_ t: GGUFTensor) throws -> [Float] {
        guard !t.type.isQuantized else {
            throw ModelFormatError.badTensor(path: file.path, tensor: t.name, reason: "\(t.type.name) is quantized; expected a float vector")
        }
        return try t.tensorData().floats()
    }
}

extension TensorData {
    /// Rows × columns of a float matrix as an f32 `Tensor` (all of it when both are nil).
    func floatsTensor(shape: [Int], rows: Range<Int>?, cols: Range<Int>?) throws -> Tensor {
        let r = rows ?? 0..<shape[0], c = cols ?? 0..<shape[1]
        return Tensor(shape: [r.count, c.count], values: try floats(rows: r, cols: c))
    }
}
