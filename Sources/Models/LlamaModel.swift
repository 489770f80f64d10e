import Compute
import ModelFormats

/// The Llama family: Llama 2/3, Mistral, Qwen2 (q/k/v bias). Pre-norm decoder blocks with
/// grouped-query attention and a SwiGLU MLP; q/k/v and gate/up are fused into single GEMMs.
///
/// Sharded by a `ShardPlan`: q/k/v and gate/up are column-parallel (this rank's heads and MLP
/// columns), o and down row-parallel (one all-reduce each), embedding and LM head split by
/// vocabulary rows. A stage holds only its layers.
public final class LlamaModel: CausalLanguageModel {
    public let config: ModelConfig
    public let plan: ShardPlan
    /// Vocabulary rows `vocab` of the embedding (first stage, or the tied head's last stage).
    let embedding: Tensor?
    let vocab: Range<Int>
    let layers: [LlamaDecoderLayer]
    let finalNorm: RMSNorm?
    let lmHead: Linear?
    let rope: RotaryEmbedding

    public static let architectures: Set<ModelArchitecture> = [.llama, .mistral, .qwen2]

    /// `format` is how the decoder layers' projections are held (`--dtype`, `--quantization`);
    /// embeddings, norms and the LM head stay f32, as vLLM keeps them unquantized.
    public init(config: ModelConfig, checkpoint: SafeTensorsCheckpoint, plan: ShardPlan? = nil, format: WeightFormat = .float32) throws {
        guard Self.architectures.contains(config.architecture) else {
            throw ModelFormatError.unsupportedArchitecture(
                path: checkpoint.directory, found: config.architecture.rawValue,
                supported: Self.architectures.map(\.rawValue).sorted())
        }
        guard GatedActivation(huggingFaceName: config.hiddenAct) == .silu else {
            throw ModelFormatError.badConfig(path: checkpoint.directory, reason: "hidden_act '\(config.hiddenAct)' is not supported for \(config.architecture.rawValue); expected silu")
        }
        let plan = plan ?? .whole(config)
        try ShardPlan.checkTensorParallel(plan.tpSize, config: config)
        self.config = config
        self.plan = plan
        let w = WeightReader(checkpoint: checkpoint)
        let hidden = config.hiddenSize
        vocab = plan.slice(config.vocabSize)
        let tiedHead = config.tieWordEmbeddings && !checkpoint.contains("lm_head.weight")
        let needsEmbedding = plan.isFirstStage || (plan.isLastStage && tiedHead)
        embedding = needsEmbedding ? try w.tensor("model.embed_tokens.weight", shape: [config.vocabSize, hidden], rows: vocab) : nil
        layers = try plan.layers.map { try LlamaDecoderLayer(config: config, index: $0, weights: w, plan: plan, format: format) }
        if plan.isLastStage {
            finalNorm = RMSNorm(weight: try w.tensor("model.norm.weight", shape: [hidden]), eps: config.rmsNormEps)
            lmHead = Linear(weight: tiedHead ? embedding! : try w.tensor("lm_head.weight", shape: [config.vocabSize, hidden], rows: vocab))
        } else {
            finalNorm = nil
            lmHead = nil
        }
        rope = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling)
    }

    public var weightBytes: Int {
        let perLayer = layers.reduce(0) { $0 + $1.weightBytes }
        let head = lmHead.map { $0.weight.storage === embedding?.storage ? 0 : $0.weight.count } ?? 0
        return perLayer + 4 * ((embedding?.count ?? 0) + (finalNorm?.weight.count ?? 0) + head)
    }

    public func forward(_ batch: ForwardBatch, input: Tensor?, caches: [PagedKVCache]) -> Tensor {
        precondition(caches.count == layers.count, "forward: \(caches.count) caches for \(layers.count) layers")
        var hidden = input ?? embed(batch.tokens)
        for (layer, cache) in zip(layers, caches) {
            hidden = layer.forward(hidden, batch: batch, cache: cache, rope: rope, tp: plan.tensorParallel)
        }
        guard let lmHead, let finalNorm else { return hidden }
        let last = hidden.gatherRows(batch.logitRows)
        finalNorm.forward(last, into: last)
        let logits = lmHead(last)
        guard let tp = plan.tensorParallel else { return logits }
        return tp.gatherColumns(logits, totalColumns: config.vocabSize) ?? Tensor(zeros: [0, config.vocabSize])
    }

    /// Rows of this rank's vocabulary slice; other ranks' tokens stay zero until the all-reduce.
    func embed(_ tokens: [Int]) -> Tensor {
        guard let embedding else { preconditionFailure("embed: this stage holds no embedding") }
        let out = Tensor(zeros: [tokens.count, config.hiddenSize])
        for (i, token) in tokens.enumerated() {
            precondition(token >= 0 && token < config.vocabSize, "token id \(token) outside vocabulary of \(config.vocabSize)")
            guard vocab.contains(token) else { continue }
            out.row(i).update(from: embedding.row(token - vocab.lowerBound), count: config.hiddenSize)
        }
        plan.tensorParallel?.allReduceSum(out)
        return out
    }
}

/// One pre-norm block: x + attn(norm(x)), then + mlp(norm(·)).
struct LlamaDecoderLayer: Sendable {
    let inputNorm: RMSNorm
    let qkv: any LinearLayer
    let output: any LinearLayer
    let postAttentionNorm: RMSNorm
    let gateUp: any LinearLayer
    let down: any LinearLayer
    /// Heads of this tensor-parallel rank.
    let numHeads: Int
    let numKVHeads: Int
    let headDim: Int
    let scale: Float
    let slidingWindow: Int?

    init(config c: ModelConfig, index: Int, weights w: WeightReader, plan: ShardPlan, format: WeightFormat) throws {
        let p = "model.layers.\(index)."
        let hidden = c.hiddenSize, d = c.headDim
        inputNorm = RMSNorm(weight: try w.tensor(p + "input_layernorm.weight", shape: [hidden]), eps: c.rmsNormEps)
        postAttentionNorm = RMSNorm(weight: try w.tensor(p + "post_attention_layernorm.weight", shape: [hidden]), eps: c.rmsNormEps)
        let heads = plan.queryHeads(c), kvHeads = plan.kvHeads(c)
        let qRows = (heads.lowerBound * d)..<(heads.upperBound * d)
        let kvRows = (kvHeads.lowerBound * d)..<(kvHeads.upperBound * d)
        let attn = ["q_proj", "k_proj", "v_proj"].map { p + "self_attn.\($0)" }
        let shapes = [(c.qSize, qRows), (c.kvSize, kvRows), (c.kvSize, kvRows)]
        qkv = format.linear(
            weight: try w.fused(zip(attn, shapes).map { ($0 + ".weight", $1.0, $1.1) }, cols: hidden),
            bias: c.attentionBias ? try w.fused(zip(attn, shapes).map { ($0 + ".bias", $1.0, $1.1) }, cols: 0) : nil)
        output = format.linear(weight: try w.tensor(p + "self_attn.o_proj.weight", shape: [hidden, c.qSize], rows: 0..<hidden, cols: qRows))
        let inter = c.intermediateSize, columns = plan.slice(inter)
        gateUp = format.linear(weight: try w.fused([(p + "mlp.gate_proj.weight", inter, columns), (p + "mlp.up_proj.weight", inter, columns)], cols: hidden))
        down = format.linear(weight: try w.tensor(p + "mlp.down_proj.weight", shape: [hidden, inter], rows: 0..<hidden, cols: columns))
        numHeads = heads.count
        numKVHeads = kvHeads.count
        headDim = d
        scale = c.attentionScale
        slidingWindow = c.layerTypes[index] == .sliding ? c.slidingWindow : nil
    }

    var weightBytes: Int {
        [qkv, output, gateUp, down].reduce(4 * (inputNorm.weight.count + postAttentionNorm.weight.count)) { $0 + $1.weightBytes }
    }

    func forward(_ x: Tensor, batch: ForwardBatch, cache: PagedKVCache, rope: RotaryEmbedding, tp: (any TensorParallelGroup)?) -> Tensor {
        let rows = x.rowCount
        let qkvOut = qkv(inputNorm(x))
        let qWidth = numHeads * headDim, kvWidth = numKVHeads * headDim
        let queries = Tensor(zeros: [rows, qWidth])
        let keys = Tensor(zeros: [rows, kvWidth]), values = Tensor(zeros: [rows, kvWidth])
        for r in 0..<rows {
            let src = qkvOut.row(r)
            queries.row(r).update(from: src, count: qWidth)
            keys.row(r).update(from: src + qWidth, count: kvWidth)
            values.row(r).update(from: src + qWidth + kvWidth, count: kvWidth)
        }
        rope.apply(queries, headDim: headDim, positions: batch.positions)
        rope.apply(keys, headDim: headDim, positions: batch.positions)
        cache.write(keys: keys, values: values, slotMapping: batch.slotMapping)
        let attended = pagedAttention(
            queries: queries, cache: cache, sequences: batch.sequences,
            numHeads: numHeads, scale: scale, slidingWindow: slidingWindow)
        let h = output(attended)
        tp?.allReduceSum(h)
        addInPlace(h, x)
        let mlp = down(GatedActivation.silu(gateUp(postAttentionNorm(h))))
        tp?.allReduceSum(mlp)
        addInPlace(mlp, h)
        return mlp
    }
}

/// a += b, elementwise.
func addInPlace(_ a: Tensor, _ b: Tensor) {
    precondition(a.count == b.count, "add: \(a.shape) vs \(b.shape)")
    let pa = a.data, pb = b.data
    for i in 0..<a.count { pa[i] += pb[i] }
}
