import Compute
import ModelFormats

/// The Llama family: Llama 2/3, Mistral, Qwen2 (q/k/v bias). Pre-norm decoder blocks with
/// grouped-query attention and a SwiGLU MLP; q/k/v and gate/up are fused into single GEMMs.
public final class LlamaModel: CausalLanguageModel {
    public let config: ModelConfig
    let embedding: Tensor
    let layers: [LlamaDecoderLayer]
    let finalNorm: RMSNorm
    let lmHead: Linear
    let rope: RotaryEmbedding

    public static let architectures: Set<ModelArchitecture> = [.llama, .mistral, .qwen2]

    public init(config: ModelConfig, checkpoint: SafeTensorsCheckpoint) throws {
        guard Self.architectures.contains(config.architecture) else {
            throw ModelFormatError.unsupportedArchitecture(
                path: checkpoint.directory, found: config.architecture.rawValue,
                supported: Self.architectures.map(\.rawValue).sorted())
        }
        guard GatedActivation(huggingFaceName: config.hiddenAct) == .silu else {
            throw ModelFormatError.badConfig(path: checkpoint.directory, reason: "hidden_act '\(config.hiddenAct)' is not supported for \(config.architecture.rawValue); expected silu")
        }
        self.config = config
        let w = WeightReader(checkpoint: checkpoint)
        let hidden = config.hiddenSize
        embedding = try w.tensor("model.embed_tokens.weight", shape: [config.vocabSize, hidden])
        layers = try (0..<config.numLayers).map { try LlamaDecoderLayer(config: config, index: $0, weights: w) }
        finalNorm = RMSNorm(weight: try w.tensor("model.norm.weight", shape: [hidden]), eps: config.rmsNormEps)
        if config.tieWordEmbeddings && !checkpoint.contains("lm_head.weight") {
            lmHead = Linear(weight: embedding)
        } else {
            lmHead = Linear(weight: try w.tensor("lm_head.weight", shape: [config.vocabSize, hidden]))
        }
        rope = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling)
    }

    public var weightBytes: Int {
        let perLayer = layers.reduce(0) { $0 + $1.parameterCount }
        let head = lmHead.weight.storage === embedding.storage ? 0 : lmHead.weight.count
        return 4 * (embedding.count + perLayer + finalNorm.weight.count + head)
    }

    public func forward(_ batch: ForwardBatch, caches: [PagedKVCache]) -> Tensor {
        precondition(caches.count == layers.count, "forward: \(caches.count) caches for \(layers.count) layers")
        var hidden = embed(batch.tokens)
        for (layer, cache) in zip(layers, caches) {
            hidden = layer.forward(hidden, batch: batch, cache: cache, rope: rope)
        }
        let last = hidden.gatherRows(batch.logitRows)
        finalNorm.forward(last, into: last)
        return lmHead(last)
    }

    func embed(_ tokens: [Int]) -> Tensor {
        let out = Tensor(zeros: [tokens.count, config.hiddenSize])
        for (i, token) in tokens.enumerated() {
            precondition(token >= 0 && token < config.vocabSize, "token id \(token) outside vocabulary of \(config.vocabSize)")
            out.row(i).update(from: embedding.row(token), count: config.hiddenSize)
        }
        return out
    }
}

/// One pre-norm block: x + attn(norm(x)), then + mlp(norm(·)).
struct LlamaDecoderLayer: Sendable {
    let inputNorm: RMSNorm
    let qkv: Linear
    let output: Linear
    let postAttentionNorm: RMSNorm
    let gateUp: Linear
    let down: Linear
    let numHeads: Int
    let numKVHeads: Int
    let headDim: Int
    let scale: Float
    let slidingWindow: Int?

    init(config c: ModelConfig, index: Int, weights w: WeightReader) throws {
        let p = "model.layers.\(index)."
        let hidden = c.hiddenSize, q = c.qSize, kv = c.kvSize
        inputNorm = RMSNorm(weight: try w.tensor(p + "input_layernorm.weight", shape: [hidden]), eps: c.rmsNormEps)
        postAttentionNorm = RMSNorm(weight: try w.tensor(p + "post_attention_layernorm.weight", shape: [hidden]), eps: c.rmsNormEps)
        let attn = ["q_proj", "k_proj", "v_proj"].map { p + "self_attn.\($0)" }
        qkv = Linear(
            weight: try w.fused(attn.map { $0 + ".weight" }, rows: [q, kv, kv], cols: hidden),
            bias: c.attentionBias ? try w.fused(attn.map { $0 + ".bias" }, rows: [q, kv, kv], cols: 0) : nil)
        output = Linear(weight: try w.tensor(p + "self_attn.o_proj.weight", shape: [hidden, q]))
        let inter = c.intermediateSize
        gateUp = Linear(weight: try w.fused([p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"], rows: [inter, inter], cols: hidden))
        down = Linear(weight: try w.tensor(p + "mlp.down_proj.weight", shape: [hidden, inter]))
        numHeads = c.numHeads
        numKVHeads = c.numKVHeads
        headDim = c.headDim
        scale = c.attentionScale
        slidingWindow = c.layerTypes[index] == .sliding ? c.slidingWindow : nil
    }

    var parameterCount: Int {
        [inputNorm.weight, qkv.weight, output.weight, postAttentionNorm.weight, gateUp.weight, down.weight]
            .reduce(qkv.bias?.count ?? 0) { $0 + $1.count }
    }

    func forward(_ x: Tensor, batch: ForwardBatch, cache: PagedKVCache, rope: RotaryEmbedding) -> Tensor {
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
        addInPlace(h, x)
        let mlp = down(GatedActivation.silu(gateUp(postAttentionNorm(h))))
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
