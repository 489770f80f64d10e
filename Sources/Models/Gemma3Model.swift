import Compute
import ModelFormats

/// Gemma 3 (text): sliding-window layers interleaved with global ones (each with its own RoPE
/// base), q/k RMSNorm per head, GeGLU with tanh GELU, norms before and after both attention and
/// MLP, embeddings scaled by √hidden, tied LM head.
public final class Gemma3Model: CausalLanguageModel {
    public let config: ModelConfig
    public let plan: ShardPlan
    /// Vocabulary rows `vocab` of the embedding (first stage, or the tied head's last stage).
    let embedding: (any EmbeddingTable)?
    let vocab: Range<Int>
    let layers: [Gemma3DecoderLayer]
    let finalNorm: RMSNorm?
    let lmHead: (any LinearLayer)?
    /// The LM head shares the embedding's weights (no `output.weight` in the file).
    let tiedHead: Bool
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
        let hidden = config.hiddenSize
        vocab = plan.slice(config.vocabSize)
        tiedHead = !weights.contains(names.lmHead)
        let needsEmbedding = plan.isFirstStage || (plan.isLastStage && tiedHead)
        embedding = needsEmbedding ? try weights.embedding(names.embedding, vocabSize: config.vocabSize, hiddenSize: hidden, rows: vocab) : nil
        let norm = { (name: String, count: Int) throws -> RMSNorm in
            RMSNorm(weight: try weights.vector(name, count: count), eps: config.rmsNormEps, unitOffset: !normsIncludeOne)
        }
        layers = try plan.layers.map { i in
            try Gemma3DecoderLayer(config: config, index: i, weights: weights, names: names, plan: plan, norm: norm)
        }
        if plan.isLastStage {
            finalNorm = try norm(names.finalNorm, hidden)
            lmHead = tiedHead ? embedding!.asLinear
                : try weights.head(names.lmHead, outFeatures: config.vocabSize, inFeatures: hidden, rows: plan.tpSize > 1 ? vocab : nil)
        } else {
            finalNorm = nil
            lmHead = nil
        }
        globalRope = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling)
        localRope = RotaryEmbedding(headDim: config.headDim, theta: config.ropeLocalTheta ?? 10_000, scaling: .none)
    }

    public var weightBytes: Int {
        (embedding?.weightBytes ?? 0) + layers.reduce(0) { $0 + $1.weightBytes } + 4 * (finalNorm?.weight.count ?? 0)
            + (tiedHead ? 0 : lmHead?.weightBytes ?? 0)
    }

    public func forward(_ batch: ForwardBatch, input: Tensor?, caches: [PagedKVCache]) -> Tensor {
        precondition(caches.count == layers.count, "forward: \(caches.count) caches for \(layers.count) layers")
        var hidden = input ?? embed(batch.tokens)
        for (layer, cache) in zip(layers, caches) {
            hidden = layer.forward(hidden, batch: batch, cache: cache, rope: layer.isSliding ? localRope : globalRope, tp: plan.tensorParallel)
        }
        guard let lmHead, let finalNorm else { return hidden }
        let last = hidden.gatherRows(batch.logitRows)
        finalNorm.forward(last, into: last)
        let logits = lmHead(last)
        guard let tp = plan.tensorParallel else { return logits }
        return tp.gatherColumns(logits, totalColumns: config.vocabSize) ?? Tensor(zeros: [0, config.vocabSize])
    }

    /// Scaled embedding rows of this rank's vocabulary slice; the others' arrive in the all-reduce.
    func embed(_ tokens: [Int]) -> Tensor {
        guard let embedding else { preconditionFailure("embed: this stage holds no embedding") }
        let scale = Float(config.hiddenSize).squareRoot()
        let out = Tensor(zeros: [tokens.count, config.hiddenSize])
        guard plan.tpSize > 1 else {
            embedding.gather(tokens, into: out, scale: scale)
            return out
        }
        let mine = tokens.indices.filter { vocab.contains(tokens[$0]) }
        if !mine.isEmpty {
            let rows = Tensor(zeros: [mine.count, config.hiddenSize])
            embedding.gather(mine.map { tokens[$0] - vocab.lowerBound }, into: rows, scale: scale)
            for (i, at) in mine.enumerated() { out.row(at).update(from: rows.row(i), count: config.hiddenSize) }
        }
        plan.tensorParallel?.allReduceSum(out)
        return out
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
