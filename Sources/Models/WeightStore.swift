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
    /// Like `linear`, but for q/k weights of `ropeHeads` heads: a file that stores their rows in
    /// GGML's interleaved-RoPE order (llama.cpp's converter permutes Llama's) is read back in
    /// Hugging Face's half-split order, which the models' RoPE expects.
    func projection(_ name: String, outFeatures: Int, inFeatures: Int, rows: Range<Int>?, cols: Range<Int>?, ropeHeads: Int?) throws -> any LinearLayer
    /// Several projections of one input, outputs side by side (q/k/v, gate/up).
    func stackedLinear(_ parts: [StackedPart], inFeatures: Int) throws -> any LinearLayer
    /// An untied LM head: kept at the file's precision even when `--quantization` applies.
    func head(_ name: String, outFeatures: Int, inFeatures: Int, rows: Range<Int>?) throws -> any LinearLayer
}

/// One of several projections stacked into one layer (q/k/v, gate/up): its name, full output
/// size, the output rows this rank keeps, an optional bias, and, for q and k, the head count
/// when the file may hold its rows in GGML's interleaved-RoPE order.
public struct StackedPart: Sendable {
    public var name: String
    public var outFeatures: Int
    public var rows: Range<Int>?
    public var bias: String?
    public var ropeHeads: Int?

    public init(name: String, outFeatures: Int, rows: Range<Int>?, bias: String? = nil, ropeHeads: Int? = nil) {
        self.name = name
        self.outFeatures = outFeatures
        self.rows = rows
        self.bias = bias
        self.ropeHeads = ropeHeads
    }
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

extension WeightStore {
    public func head(_ name: String, outFeatures: Int, inFeatures: Int, rows: Range<Int>?) throws -> any LinearLayer {
        try linear(name, outFeatures: outFeatures, inFeatures: inFeatures, rows: rows, cols: nil)
    }

    public func projection(_ name: String, outFeatures: Int, inFeatures: Int, rows: Range<Int>?, cols: Range<Int>?,
                           ropeHeads: Int?) throws -> any LinearLayer {
        try linear(name, outFeatures: outFeatures, inFeatures: inFeatures, rows: rows, cols: cols)
    }

    /// The parts' outputs side by side; stores that can fuse them into one matrix do.
    public func stackedLinear(_ parts: [StackedPart], inFeatures: Int) throws -> any LinearLayer {
        ConcatenatedLinear(try parts.map { part in
            try linear(part.name, outFeatures: part.outFeatures, inFeatures: inFeatures, rows: part.rows, cols: nil,
                       bias: part.bias, ropeHeads: part.ropeHeads)
        })
    }

    /// A projection with an optional bias (sliced like its rows).
    func linear(_ name: String, outFeatures: Int, inFeatures: Int, rows: Range<Int>?, cols: Range<Int>?,
                bias: String?, ropeHeads: Int?) throws -> any LinearLayer {
        let layer = try projection(name, outFeatures: outFeatures, inFeatures: inFeatures, rows: rows, cols: cols, ropeHeads: ropeHeads)
        guard let bias else { return layer }
        let full = try vector(bias, count: outFeatures)
        let kept = rows.map { r in Tensor(shape: [r.count], values: Array(full.toArray()[r])) } ?? full
        // Quantized kernels add a bias themselves, which keeps q/k/v one fused job.
        if let q = layer as? QuantizedLinear, q.bias == nil { return QuantizedLinear(weight: q.weight, bias: kept) }
        return BiasedLinear(inner: layer, bias: kept)
    }
}

/// y = inner(x) + b, for projections whose kernels take no bias.
struct BiasedLinear: LinearLayer {
    let inner: any LinearLayer
    let bias: Tensor
    var inFeatures: Int { inner.inFeatures }
    var outFeatures: Int { inner.outFeatures }
    var weightBytes: Int { inner.weightBytes + 4 * bias.count }

    func callAsFunction(_ x: Tensor, pool: ThreadPool) -> Tensor {
        let y = inner(x, pool: pool)
        for r in 0..<y.rowCount {
            let row = y.row(r)
            for j in 0..<outFeatures { row[j] += bias.data[j] }
        }
        return y
    }
}
