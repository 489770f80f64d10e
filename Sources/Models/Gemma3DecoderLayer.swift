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

    init(config c: ModelConfig, index: Int, weights: any WeightStore, names: Gemma3TensorNames,
         norm: (String, Int) throws -> RMSNorm) throws {
        func name(_ role: Gemma3TensorRole) -> String { names.layer(index, role) }
        let hidden = c.hiddenSize, inter = c.intermediateSize
        inputNorm = try norm(name(.inputNorm), hidden)
        postAttentionNorm = try norm(name(.postAttentionNorm), hidden)
        preFeedforwardNorm = try norm(name(.preFeedforwardNorm), hidden)
        postFeedforwardNorm = try norm(name(.postFeedforwardNorm), hidden)
        qNorm = try norm(name(.qNorm), c.headDim)
        kNorm = try norm(name(.kNorm), c.headDim)
        q = try weights.linear(name(.q), outFeatures: c.qSize, inFeatures: hidden)
        k = try weights.linear(name(.k), outFeatures: c.kvSize, inFeatures: hidden)
        v = try weights.linear(name(.v), outFeatures: c.kvSize, inFeatures: hidden)
        o = try weights.linear(name(.o), outFeatures: hidden, inFeatures: c.qSize)
        gate = try weights.linear(name(.gate), outFeatures: inter, inFeatures: hidden)
        up = try weights.linear(name(.up), outFeatures: inter, inFeatures: hidden)
        down = try weights.linear(name(.down), outFeatures: hidden, inFeatures: inter)
        numHeads = c.numHeads
        numKVHeads = c.numKVHeads
        headDim = c.headDim
        scale = c.attentionScale
        isSliding = c.layerTypes[index] == .sliding
        slidingWindow = isSliding ? c.slidingWindow : nil
    }

    var weightBytes: Int {
        [q, k, v, o, gate, up, down].reduce(0) { $0 + $1.weightBytes }
            + 4 * [inputNorm, postAttentionNorm, preFeedforwardNorm, postFeedforwardNorm, qNorm, kNorm].reduce(0) { $0 + $1.weight.count }
    }

    func forward(_ x: Tensor, batch: ForwardBatch, cache: PagedKVCache, rope: RotaryEmbedding) -> Tensor {
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
        postAttentionNorm.forward(attnOut, into: attnOut)
        addInPlace(attnOut, x)
        let f = preFeedforwardNorm(attnOut)
        let mlp = down(GatedActivation.geluTanh(gate: gate(f), up: up(f)))
        postFeedforwardNorm.forward(mlp, into: mlp)
        addInPlace(mlp, attnOut)
        return mlp
    }
}
