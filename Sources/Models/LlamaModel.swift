import Compute
import ModelFormats

/// The Llama family: Llama 2/3, Mistral, Qwen2 (q/k/v bias), Mixtral (a mixture of experts in
/// place of the MLP). Pre-norm decoder blocks with grouped-query attention and SwiGLU, from
/// safetensors (q/k/v and gate/up fused into single GEMMs) or GGUF (weights stay quantized in
/// the map).
///
/// Sharded by a `ShardPlan`: q/k/v and gate/up are column-parallel (this rank's heads and MLP
/// columns), o and down row-parallel (one all-reduce each), embedding and LM head split by
/// vocabulary rows. A stage holds only its layers.
public final class LlamaModel: CausalLanguageModel {
    public let config: ModelConfig
    public let plan: ShardPlan
    /// First stage (and a tied head's last stage) only.
    let embedding: VocabParallelEmbedding?
    let layers: [LlamaDecoderLayer]
    /// Last stage only.
    let head: ParallelLMHead?
    let rope: RotaryEmbedding

    public static let architectures: Set<ModelArchitecture> = [.llama, .mistral, .qwen2, .mixtral]

    /// A Hugging Face checkpoint. `format` is how the decoder layers' projections are held
    /// (`--dtype`, `--quantization`); embeddings, norms and the LM head stay f32, as vLLM keeps them.
    public convenience init(config: ModelConfig, checkpoint: SafeTensorsCheckpoint, plan: ShardPlan? = nil, format: WeightFormat = .float32) throws {
        try self.init(config: config, weights: SafeTensorsWeightStore(checkpoint: checkpoint, format: format), names: .huggingFace, plan: plan)
    }

    public init(config: ModelConfig, weights: any WeightStore, names: LlamaTensorNames, plan: ShardPlan? = nil) throws {
        guard Self.architectures.contains(config.architecture) else {
            throw ModelFormatError.unsupportedArchitecture(
                path: weights.location, found: config.architecture.rawValue, supported: Self.architectures.map(\.rawValue).sorted())
        }
        guard GatedActivation(huggingFaceName: config.hiddenAct) == .silu else {
            throw ModelFormatError.badConfig(path: weights.location, reason: "hidden_act '\(config.hiddenAct)' is not supported for \(config.architecture.rawValue); expected silu")
        }
        let plan = plan ?? .whole(config)
        try ShardPlan.checkTensorParallel(plan.tpSize, config: config)
        self.config = config
        self.plan = plan
        // A file without a head ties it to the embedding (GGUF drops output.weight when tied).
        embedding = try VocabParallelEmbedding.load(names.embedding, weights: weights, config: config, plan: plan,
                                                    tiedHead: !weights.contains(names.lmHead))
        layers = try plan.layers.map { try LlamaDecoderLayer(config: config, index: $0, weights: weights, names: names, plan: plan) }
        head = try ParallelLMHead.load(names.lmHead, weights: weights, config: config, plan: plan, embedding: embedding) {
            RMSNorm(weight: try weights.vector(names.finalNorm, count: config.hiddenSize), eps: config.rmsNormEps)
        }
        rope = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling)
    }

    public var weightBytes: Int {
        (embedding?.weightBytes ?? 0) + layers.reduce(0) { $0 + $1.weightBytes } + (head?.weightBytes ?? 0)
    }

    public func forward(_ batch: ForwardBatch, input: Tensor?, caches: [PagedKVCache]) -> ForwardOutput {
        precondition(caches.count == layers.count, "forward: \(caches.count) caches for \(layers.count) layers")
        guard var hidden = input ?? embedding?.embed(batch.tokens, scale: 1) else {
            preconditionFailure("forward: a later stage needs the previous stage's hidden states")
        }
        let angles = rope.angles(batch.positions)
        for (layer, cache) in zip(layers, caches) {
            hidden = layer.forward(hidden, batch: batch, cache: cache, rope: angles, tp: plan.tensorParallel)
        }
        return head?.logits(hidden, rows: batch.logitRows) ?? ForwardOutput(hidden)
    }
}

/// Tensor names of the Llama family in a file format.
public struct LlamaTensorNames: Sendable {
    public var embedding: String
    public var finalNorm: String
    public var lmHead: String
    /// (layer, role) → name; roles: input_norm, post_norm, q, k, v, o, gate, up, down,
    /// q_bias, k_bias, v_bias, and for a mixture of experts router and expert.E.gate/up/down.
    public var layer: @Sendable (Int, String) -> String

    public static let huggingFace = LlamaTensorNames(embedding: "model.embed_tokens.weight", finalNorm: "model.norm.weight", lmHead: "lm_head.weight") { i, role in
        let p = "model.layers.\(i)."
        switch role {
        case "input_norm": return p + "input_layernorm.weight"
        case "post_norm": return p + "post_attention_layernorm.weight"
        case "q", "k", "v", "o": return p + "self_attn.\(role)_proj.weight"
        case "q_bias", "k_bias", "v_bias": return p + "self_attn.\(role.prefix(1))_proj.bias"
        case "router": return p + "block_sparse_moe.gate.weight"
        case _ where role.hasPrefix("expert."):
            let parts = role.split(separator: ".")   // expert.E.gate|up|down
            let w = ["gate": "w1", "down": "w2", "up": "w3"][String(parts[2])]!
            return p + "block_sparse_moe.experts.\(parts[1]).\(w).weight"
        default: return p + "mlp.\(role)_proj.weight"
        }
    }

    /// llama.cpp's GGUF names. Experts are named as early Mixtral GGUFs store them
    /// (`blk.N.ffn_gate.E.weight`); the GGUF store also finds them in merged `ffn_*_exps` tensors.
    public static let gguf = LlamaTensorNames(embedding: "token_embd.weight", finalNorm: "output_norm.weight", lmHead: "output.weight") { i, role in
        let p = "blk.\(i)."
        switch role {
        case "input_norm": return p + "attn_norm.weight"
        case "post_norm": return p + "ffn_norm.weight"
        case "q", "k", "v": return p + "attn_\(role).weight"
        case "o": return p + "attn_output.weight"
        case "q_bias", "k_bias", "v_bias": return p + "attn_\(role.prefix(1)).bias"
        case "router": return p + "ffn_gate_inp.weight"
        case _ where role.hasPrefix("expert."):
            let parts = role.split(separator: ".")
            return p + "ffn_\(parts[2]).\(parts[1]).weight"
        default: return p + "ffn_\(role).weight"
        }
    }
}

/// One pre-norm block: x + attn(norm(x)), then + mlp(norm(·)). A class, as Gemma's layer.
final class LlamaDecoderLayer: Sendable {
    let inputNorm: RMSNorm
    let qkv: any LinearLayer
    let output: any LinearLayer
    let postAttentionNorm: RMSNorm
    let feedForward: any FeedForward
    /// Heads of this tensor-parallel rank.
    let numHeads: Int
    let numKVHeads: Int
    let headDim: Int
    let scale: Float
    let slidingWindow: Int?

    init(config c: ModelConfig, index: Int, weights w: any WeightStore, names: LlamaTensorNames, plan: ShardPlan) throws {
        func name(_ role: String) -> String { names.layer(index, role) }
        let hidden = c.hiddenSize, d = c.headDim
        inputNorm = RMSNorm(weight: try w.vector(name("input_norm"), count: hidden), eps: c.rmsNormEps)
        postAttentionNorm = RMSNorm(weight: try w.vector(name("post_norm"), count: hidden), eps: c.rmsNormEps)
        let heads = plan.queryHeads(c), kvHeads = plan.kvHeads(c), whole = plan.tpSize == 1
        let qRows = (heads.lowerBound * d)..<(heads.upperBound * d)
        let kvRows = (kvHeads.lowerBound * d)..<(kvHeads.upperBound * d)
        func bias(_ role: String) -> String? { c.attentionBias ? name(role) : nil }
        qkv = try w.stackedLinear([
            StackedPart(name: name("q"), outFeatures: c.qSize, rows: whole ? nil : qRows, bias: bias("q_bias"), ropeHeads: c.numHeads),
            StackedPart(name: name("k"), outFeatures: c.kvSize, rows: whole ? nil : kvRows, bias: bias("k_bias"), ropeHeads: c.numKVHeads),
            StackedPart(name: name("v"), outFeatures: c.kvSize, rows: whole ? nil : kvRows, bias: bias("v_bias")),
        ], inFeatures: hidden)
        output = try w.linear(name("o"), outFeatures: hidden, inFeatures: c.qSize, rows: nil, cols: whole ? nil : qRows)
        let inter = c.intermediateSize, columns = whole ? nil : plan.slice(inter)
        if c.numExperts > 0 {
            feedForward = try MixtureOfExperts(router: name("router"), expert: { e, part in name("expert.\(e).\(part)") },
                                               config: c, plan: plan, weights: w)
        } else {
            feedForward = try DenseMLP(gate: name("gate"), up: name("up"), down: name("down"), hidden: hidden, intermediate: inter,
                                       columns: columns, weights: w)
        }
        numHeads = heads.count
        numKVHeads = kvHeads.count
        headDim = d
        scale = c.attentionScale
        slidingWindow = c.layerTypes[index] == .sliding ? c.slidingWindow : nil
    }

    var weightBytes: Int {
        [qkv, output].reduce(4 * (inputNorm.weight.count + postAttentionNorm.weight.count) + feedForward.weightBytes) { $0 + $1.weightBytes }
    }

    func forward(_ x: Tensor, batch: ForwardBatch, cache: PagedKVCache, rope: RotaryAngles, tp: (any TensorParallelGroup)?) -> Tensor {
        ThreadPool.shared.willReadFirst(cache.contextRegions(batch.sequences, slidingWindow: slidingWindow))
        let qkvOut = qkv(inputNorm(x))
        let kvWidth = numKVHeads * headDim
        let split = qkvOut.columnBlocks([numHeads * headDim, kvWidth, kvWidth])
        let (queries, keys, values) = (split[0], split[1], split[2])
        rope.apply(queries, headDim: headDim)
        rope.apply(keys, headDim: headDim)
        cache.write(keys: keys, values: values, slotMapping: batch.slotMapping)
        let attended = pagedAttention(
            queries: queries, cache: cache, sequences: batch.sequences,
            numHeads: numHeads, scale: scale, slidingWindow: slidingWindow)
        let h = output(attended)
        tp?.allReduceSum(h)
        addInPlace(h, x)
        let mlp = feedForward(postAttentionNorm(h))
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
