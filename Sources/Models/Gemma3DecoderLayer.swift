import Compute
import ModelFormats

/// One Gemma 3 block: x + norm(attn(norm(x))), then + norm(mlp(norm(·))).
/// A class: the model's loop passes a reference, where a struct of four existentials and six
/// norms was copied, and its references retained and released, once per layer and step.
final class Gemma3DecoderLayer: Sendable {
    let inputNorm: RMSNorm, postAttentionNorm: RMSNorm, preFeedforwardNorm: RMSNorm, postFeedforwardNorm: RMSNorm
    let qNorm: RMSNorm, kNorm: RMSNorm
    /// q/k/v and gate/up stacked: one job each (fused into one matrix where the store can).
    let qkv: any LinearLayer, o: any LinearLayer
    let gateUp: any LinearLayer, down: any LinearLayer
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
        qkv = try weights.stackedLinear([
            StackedPart(name: name(.q), outFeatures: c.qSize, rows: whole ? nil : qRows),
            StackedPart(name: name(.k), outFeatures: c.kvSize, rows: whole ? nil : kvRows),
            StackedPart(name: name(.v), outFeatures: c.kvSize, rows: whole ? nil : kvRows),
        ], inFeatures: hidden)
        o = try weights.linear(name(.o), outFeatures: hidden, inFeatures: c.qSize, rows: nil, cols: whole ? nil : qRows)
        gateUp = try weights.stackedLinear([
            StackedPart(name: name(.gate), outFeatures: inter, rows: whole ? nil : columns),
            StackedPart(name: name(.up), outFeatures: inter, rows: whole ? nil : columns),
        ], inFeatures: hidden)
        down = try weights.linear(name(.down), outFeatures: hidden, inFeatures: inter, rows: nil, cols: whole ? nil : columns)
        numHeads = heads.count
        numKVHeads = kvHeads.count
        headDim = c.headDim
        scale = c.attentionScale
        isSliding = c.layerTypes[index] == .sliding
        slidingWindow = isSliding ? c.slidingWindow : nil
    }

    var weightBytes: Int {
        [qkv, o, gateUp, down].reduce(0) { $0 + $1.weightBytes }
            + 4 * [inputNorm, postAttentionNorm, preFeedforwardNorm, postFeedforwardNorm, qNorm, kNorm].reduce(0) { $0 + $1.weight.count }
    }

    func forward(_ x: Tensor, batch: ForwardBatch, cache: PagedKVCache, rope: RotaryAngles, tp: (any TensorParallelGroup)?) -> Tensor {
        // Waiting threads fetch the KV context from here to attention (input norm, the q/k/v
        // join, the serial q/k work), ahead of the projections' weights.
        ThreadPool.shared.willReadFirst(cache.contextRegions(batch.sequences, slidingWindow: slidingWindow))
        let rows = x.rowCount
        let kvWidth = numKVHeads * headDim
        let split = qkv(inputNorm(x)).columnBlocks([numHeads * headDim, kvWidth, kvWidth])
        let (queries, keys, values) = (split[0], split[1], split[2])
        // q/k norms act on each head: view [rows, heads·dim] as [rows·heads, dim].
        qNorm.forward(queries.reshaped([rows * numHeads, headDim]), into: queries.reshaped([rows * numHeads, headDim]))
        kNorm.forward(keys.reshaped([rows * numKVHeads, headDim]), into: keys.reshaped([rows * numKVHeads, headDim]))
        rope.apply(queries, headDim: headDim)
        rope.apply(keys, headDim: headDim)
        cache.write(keys: keys, values: values, slotMapping: batch.slotMapping)
        let attended = pagedAttention(queries: queries, cache: cache, sequences: batch.sequences,
                                      numHeads: numHeads, scale: scale, slidingWindow: slidingWindow)
        let attnOut = o(attended)
        tp?.allReduceSum(attnOut)  // the post-norm needs the whole sum
        postAttentionNorm.forward(attnOut, into: attnOut)
        addInPlace(attnOut, x)
        let f = preFeedforwardNorm(attnOut)
        let mlp = down(GatedActivation.geluTanh(gateUp(f)))
        tp?.allReduceSum(mlp)
        postFeedforwardNorm.forward(mlp, into: mlp)
        addInPlace(mlp, attnOut)
        return mlp
    }
}
