/// Parameters by the part of the model that holds them, computed from the shapes. The split is
/// what the sharding rules need: TP cuts attention and MLP columns, EP whole experts, PP layers,
/// while the embedding and LM head live on the first and last pipeline stages.
public struct ParameterCount: Sendable, Equatable {
    public var embedding: Double
    /// Zero when tied to the embedding (one matrix serves both on a single stage).
    public var lmHead: Double
    /// Per layer. `attentionReplicated` is the part every TP rank holds whole (MLA's latent
    /// down-projection, norms); `attentionSharded` is split across TP ranks.
    public var attentionSharded: Double
    public var attentionReplicated: Double
    /// A dense layer's gated MLP (gate, up, down).
    public var denseMLP: Double
    /// One routed expert of an MoE layer; shared experts and the router per MoE layer.
    public var expert: Double
    public var sharedExperts: Double
    public var router: Double
    public var finalNorm: Double

    public init(_ m: ModelSpec) {
        let h = Double(m.hiddenSize)
        embedding = Double(m.vocabSize) * h
        lmHead = m.tieWordEmbeddings ? 0 : Double(m.vocabSize) * h
        let heads = Double(m.numAttentionHeads)
        let norms = 2 * h  // input and post-attention RMSNorm
        if m.usesMLA {
            let qk = Double(m.queryHeadDim), v = Double(m.valueHeadDim)
            let latent = Double(m.kvLoraRank ?? 0), rope = Double(m.qkRopeHeadDim ?? 0)
            let nope = Double(m.qkNopeHeadDim ?? 0)
            var query = h * heads * qk
            var replicatedQuery = 0.0
            if let qLora = m.qLoraRank {
                replicatedQuery = h * Double(qLora) + Double(qLora)  // down-projection and its norm
                query = Double(qLora) * heads * qk
            }
            attentionSharded = query + latent * heads * (nope + v) + heads * v * h
            attentionReplicated = replicatedQuery + h * (latent + rope) + latent + norms
        } else {
            let d = Double(m.queryHeadDim), kv = Double(m.numKVHeads)
            let bias = (m.attentionQKVBias ?? false) ? (heads + 2 * kv) * d : 0
            attentionSharded = h * (heads + 2 * kv) * d + heads * d * h + bias
            attentionReplicated = norms
        }
        denseMLP = 3 * h * Double(m.intermediateSize)
        let moeWidth = Double(m.moeIntermediateSize ?? m.intermediateSize)
        expert = m.isMoE ? 3 * h * moeWidth : 0
        sharedExperts = m.isMoE ? Double(m.numSharedExperts ?? 0) * 3 * h * moeWidth : 0
        router = m.isMoE ? h * Double(m.numExperts ?? 0) : 0
        finalNorm = h
        numExperts = m.numExperts ?? 0
        expertsPerToken = m.expertsPerToken ?? 0
        moeLayers = (0..<m.numLayers).filter(m.isMoELayer).count
        denseLayers = m.numLayers - moeLayers
    }

    public var numExperts: Int
    public var expertsPerToken: Int
    public var moeLayers: Int
    public var denseLayers: Int

    public var attention: Double { attentionSharded + attentionReplicated }
    public var moeLayer: Double { Double(numExperts) * expert + sharedExperts + router }

    public var total: Double {
        embedding + lmHead + finalNorm + Double(denseLayers + moeLayers) * attention
            + Double(denseLayers) * denseMLP + Double(moeLayers) * moeLayer
    }

    /// Parameters one token passes through (routed experts counted `expertsPerToken` times).
    public var active: Double {
        embedding + lmHead + finalNorm + Double(denseLayers + moeLayers) * attention + Double(denseLayers) * denseMLP
            + Double(moeLayers) * (Double(expertsPerToken) * expert + sharedExperts + router)
    }
}
