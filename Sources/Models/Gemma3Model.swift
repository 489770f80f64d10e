import Compute
import ModelFormats

/// Gemma 3 (text): sliding-window layers interleaved with global ones (each with its own RoPE
/// base), q/k RMSNorm per head, GeGLU with tanh GELU, norms before and after both attention and
/// MLP, embeddings scaled by √hidden, tied LM head.
public final class Gemma3Model: CausalLanguageModel {
    public let config: ModelConfig
    public let plan: ShardPlan
    /// First stage (and a tied head's last stage) only.
    let embedding: VocabParallelEmbedding?
    let layers: [Gemma3DecoderLayer]
    /// Last stage only.
    let head: ParallelLMHead?
    let localRope: RotaryEmbedding
    let globalRope: RotaryEmbedding

    /// `names` maps tensor roles to the file's names; `normsIncludeOne` is true for GGUF files,
    /// whose converter stores Gemma's RMSNorm weights as (1 + w) already.
    public init(config: ModelConfig, weights: any WeightStore, names: Gemma3TensorNames, normsIncludeOne: Bool,
                plan: ShardPlan? = nil) throws {
        guard config.architecture == .gemma3 else {
            throw ModelFormatError.unsupportedArchitecture(path: weights.location, found: config.architecture.rawValue, supported: ["gemma3"])
        }
        let plan = plan ?? .whole(config)
        try ShardPlan.checkTensorParallel(plan.tpSize, config: config)
        self.config = config
        self.plan = plan
        embedding = try VocabParallelEmbedding.load(names.embedding, weights: weights, config: config, plan: plan,
                                                    tiedHead: !weights.contains(names.lmHead))
        let norm = { (name: String, count: Int) throws -> RMSNorm in
            RMSNorm(weight: try weights.vector(name, count: count), eps: config.rmsNormEps, unitOffset: !normsIncludeOne)
        }
        layers = try plan.layers.map { i in
            try Gemma3DecoderLayer(config: config, index: i, weights: weights, names: names, plan: plan, norm: norm)
        }
        head = try ParallelLMHead.load(names.lmHead, weights: weights, config: config, plan: plan, embedding: embedding) {
            try norm(names.finalNorm, config.hiddenSize)
        }
        globalRope = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling)
        localRope = RotaryEmbedding(headDim: config.headDim, theta: config.ropeLocalTheta ?? 10_000, scaling: .none)
    }

    public var weightBytes: Int {
        (embedding?.weightBytes ?? 0) + layers.reduce(0) { $0 + $1.weightBytes } + (head?.weightBytes ?? 0)
    }

    public func forward(_ batch: ForwardBatch, input: Tensor?, caches: [PagedKVCache]) -> ForwardOutput {
        precondition(caches.count == layers.count, "forward: \(caches.count) caches for \(layers.count) layers")
        guard var hidden = input ?? embedding?.embed(batch.tokens, scale: Float(config.hiddenSize).squareRoot()) else {
            preconditionFailure("forward: a later stage needs the previous stage's hidden states")
        }
        let local = localRope.angles(batch.positions), global = globalRope.angles(batch.positions)
        for (layer, cache) in zip(layers, caches) {
            hidden = layer.forward(hidden, batch: batch, cache: cache, rope: layer.isSliding ? local : global, tp: plan.tensorParallel)
        }
        return head?.logits(hidden, rows: batch.logitRows) ?? ForwardOutput(hidden)
    }
}

/// Tensor names for Gemma 3 in a given file format.
public struct Gemma3TensorNames: Sendable {
    public var embedding: String
    public var finalNorm: String
    public var lmHead: String
    /// Role → name for layer i.
    public var layer: @Sendable (Int, Gemma3TensorRole) -> String

    /// llama.cpp's GGUF names.
    public static let gguf = Gemma3TensorNames(embedding: "token_embd.weight", finalNorm: "output_norm.weight", lmHead: "output.weight") { i, role in
        "blk.\(i).\(role.ggufName).weight"
    }

    /// Hugging Face's names.
    public static let huggingFace = Gemma3TensorNames(embedding: "model.embed_tokens.weight", finalNorm: "model.norm.weight", lmHead: "lm_head.weight") { i, role in
        "model.layers.\(i).\(role.huggingFaceName).weight"
    }
}

public enum Gemma3TensorRole: Sendable, CaseIterable {
    case inputNorm, q, k, v, o, qNorm, kNorm, postAttentionNorm, preFeedforwardNorm, gate, up, down, postFeedforwardNorm

    var ggufName: String {
        switch self {
        case .inputNorm: "attn_norm"
        case .q: "attn_q"
        case .k: "attn_k"
        case .v: "attn_v"
        case .o: "attn_output"
        case .qNorm: "attn_q_norm"
        case .kNorm: "attn_k_norm"
        case .postAttentionNorm: "post_attention_norm"
        case .preFeedforwardNorm: "ffn_norm"
        case .gate: "ffn_gate"
        case .up: "ffn_up"
        case .down: "ffn_down"
        case .postFeedforwardNorm: "post_ffw_norm"
        }
    }

    var huggingFaceName: String {
        switch self {
        case .inputNorm: "input_layernorm"
        case .q: "self_attn.q_proj"
        case .k: "self_attn.k_proj"
        case .v: "self_attn.v_proj"
        case .o: "self_attn.o_proj"
        case .qNorm: "self_attn.q_norm"
        case .kNorm: "self_attn.k_norm"
        case .postAttentionNorm: "post_attention_layernorm"
        case .preFeedforwardNorm: "pre_feedforward_layernorm"
        case .gate: "mlp.gate_proj"
        case .up: "mlp.up_proj"
        case .down: "mlp.down_proj"
        case .postFeedforwardNorm: "post_feedforward_layernorm"
        }
    }
}
