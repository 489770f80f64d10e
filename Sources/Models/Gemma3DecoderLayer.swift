import Compute
import ModelFormats

/// One Gemma 3 block: x + norm(attn(norm(x))), then + norm(mlp(norm(·))).
struct Gemma3DecoderLayer: Sendable {
    let inputNorm: RMSNorm, postAttentionNorm: RMSNorm, preFeedforwardNorm: RMSNorm, postFeedforwardNorm: RMSNorm
    let qNorm: RMSNorm, kNorm: RMSNorm
    let q: any LinearLayer, k: any LinearLayer, v: any LinearLayer, o: any LinearLayer
    let gate: any LinearLayer, up: any LinearLayer, down: any LinearLayer
    let numHeads: Int, numKVHeads: Int, headDim: Int
    let scale: Float
    let isSliding: Bool
    let slidingWindow: Int?

    init(config c: ModelConfig, index: Int, weights: any WeightStore, names: Gemma3TensorNames, plan: ShardPlan,
         norm: (String, Int) throws -> RMSNorm) throws {
        func name(_ role: Gemma3TensorRole) -> String { names.layer(index, role) }
        let hidden = c.hiddenSize, inter = c.intermediateSize
        inputNorm = try norm(name(.inputNorm), hidden)
        postAttentionNorm = try norm(name(.postAttentionNorm), hidden)
        preFeedforwardNorm = try norm(name(.preFeedforwardNorm), hidden)
        postFeedforwardNorm = try norm(name(.postFeedforwardNorm), hidden)
        qNorm = try norm(name(.qNorm), c.headDim)
        kNorm = try norm(name(.kNorm), c.headDim)
        // Column-parallel q/k/v and gate/up (this rank's heads and MLP columns), row-parallel o and down.
        let d = c.headDim, heads = plan.queryHeads(c), kvHeads = plan.kvHeads(c), columns = plan.slice(inter)
        let qRows = (heads.lowerBound * d)..<(heads.upperBound * d), kvRows = (kvHeads.lowerBound * d)..<(kvHeads.upperBound * d)
        let whole = plan.tpSize == 1
        q = try weights.linear(name(.q), outFeatures: c.qSize, inFeatures: hidden, rows: whole ? nil : qRows, cols: nil)
        k = try weights.linear(name(.k), outFeatures: c.kvSize, inFeatures: hidden, rows: whole ? nil : kvRows, cols: nil)
        v = try weights.linear(name(.v), outFeatures: c.kvSize, inFeatures: hidden, rows: whole ? nil : kvRows, cols: nil)
        o = try weights.linear(name(.o), outFeatures: hidden, inFeatures: c.qSize, rows: nil, cols: whole ? nil : qRows)
        gate = try weights.linear(name(.gate), outFeatures: inter, inFeatures: hidden, rows: whole ? nil : columns, cols: nil)
        up = try weights.linear(name(.up), outFeatures: inter, inFeatures: hidden, rows: whole ? nil : columns, cols: nil)
        down = try weights.linear(name(.down), outFeatures: hidden, inFeatures: inter, rows: nil, cols: whole ? nil : columns)
        numHeads = heads.count
        numKVHeads = kvHeads.count
        headDim = c.headDim
        scale = c.attentionScale
        isSliding = c.layerTypes[index] == .sliding
        slidingWindow = isSliding ? c.slidingWindow : nil
    }

    var weightBytes: Int {
        [q, k, v, o, gate, up, down].reduce(0) { $0 + $1.weightBytes }
            + 4 * [inputNorm, postAttentionNorm, preFeedforwardNorm, postFeedforwardNorm, qNorm, kNorm].reduce(0) { $0 + $1.weight.count }
    }

    func forward(_ x: Tensor, batch: ForwardBatch, cache: PagedKVCache, rope: RotaryEmbedding, tp: (any TensorParallelGroup)?) -> Tensor {
        let rows = x.rowCount
        let h = inputNorm(x)
        let queries = q(h), keys = k(h), values = v(h)
        // q/k norms act on each head: view [rows, heads·dim] as [rows·heads, dim].
        qNorm.forward(queries.reshaped([rows * numHeads, headDim]), into: queries.reshaped([rows * numHeads, headDim]))
        kNorm.forward(keys.reshaped([rows * numKVHeads, headDim]), into: keys.reshaped([rows * numKVHeads, headDim]))
        rope.apply(queries, headDim: headDim, positions: batch.positions)
        rope.apply(keys, headDim: headDim, positions: batch.positions)
        cache.write(keys: keys, values: values, slotMapping: batch.slotMapping)
        let attended = pagedAttention(queries: queries, cache: cache, sequences: batch.sequences,
                                      numHeads: numHeads, scale: scale, slidingWindow: slidingWindow)
        let attnOut = o(attended)
        tp?.allReduceSum(attnOut)  // the post-norm needs the whole sum
        postAttentionNorm.forward(attnOut, into: attnOut)
        addInPlace(attnOut, x)
        let f = preFeedforwardNorm(attnOut)
        let mlp = down(GatedActivation.geluTanh(gate: gate(f), up: up(f)))
        tp?.allReduceSum(mlp)
        postFeedforwardNorm.forward(mlp, into: mlp)
        addInPlace(mlp, attnOut)
        return mlp
    }
}
