import Compute
import ModelFormats

/// One model step's input: the new tokens of every scheduled sequence, flattened.
/// Prefill chunks and decodes mix freely; each sequence says where its queries sit in the
/// flat rows and where its K/V blocks are.
public struct ForwardBatch: Sendable {
    public var tokens: [Int]
    public var positions: [Int]
    public var sequences: [AttentionSequence]
    /// Cache slot (block × blockSize + offset) that each token's K/V is written to.
    public var slotMapping: [Int32]
    /// Rows whose logits are wanted (usually each sequence's last row).
    public var logitRows: [Int]

    public init(tokens: [Int], positions: [Int], sequences: [AttentionSequence], slotMapping: [Int32], logitRows: [Int]) {
        precondition(tokens.count == positions.count && tokens.count == slotMapping.count, "ForwardBatch: ragged inputs")
        self.tokens = tokens
        self.positions = positions
        self.sequences = sequences
        self.slotMapping = slotMapping
        self.logitRows = logitRows
    }
}

/// What every decoder-only model offers the runner.
public protocol CausalLanguageModel: Sendable {
    var config: ModelConfig { get }
    /// Bytes of weights this model holds in memory.
    var weightBytes: Int { get }
    /// The part of the model this instance holds.
    var plan: ShardPlan { get }
    /// Runs this shard's layers over one step. The first stage embeds `batch.tokens` (`input`
    /// nil); later stages take the previous stage's hidden states [tokens, hidden].
    func forward(_ batch: ForwardBatch, input: Tensor?, caches: [PagedKVCache]) -> ForwardOutput
}

/// One stage's step: every stage but the last returns its hidden states; the last returns
/// logits [logitRows.count, vocab] on tensor-parallel rank 0 and an empty tensor on the others.
public struct ForwardOutput: Sendable {
    public let tensor: Tensor
    /// Each logits row's argmax (greedy sampling's token) where the LM head found it while
    /// writing the row; nil where it did not (hidden states, a gathered or f32 head).
    public let argmax: [Int]?

    public init(_ tensor: Tensor, argmax: [Int]? = nil) {
        self.tensor = tensor
        self.argmax = argmax
    }
}

extension CausalLanguageModel {
    /// A whole (unsharded) model's step: logits [logitRows.count, vocab].
    public func forward(_ batch: ForwardBatch, caches: [PagedKVCache]) -> Tensor {
        forward(batch, input: nil, caches: caches).tensor
    }

    /// One cache per layer of this stage, holding this rank's KV heads, sized for `numBlocks`
    /// blocks of `blockSize` tokens.
    public func makeKVCaches(numBlocks: Int, blockSize: Int) -> [PagedKVCache] {
        plan.layers.map { _ in
            PagedKVCache(numBlocks: numBlocks, blockSize: blockSize, numKVHeads: plan.kvHeads(config).count, headDim: config.headDim)
        }
    }

    /// KV bytes one block takes on this device (f32 keys and values, its layers and heads).
    public func kvBytesPerBlock(blockSize: Int) -> Int {
        2 * 4 * plan.layers.count * blockSize * plan.kvHeads(config).count * config.headDim
    }

    /// KV bytes one query row at `context` positions reads on this device: every layer's keys
    /// and values, a sliding layer's only within its window.
    public func kvBytesRead(context: Int) -> Int {
        2 * 4 * config.kvPositionsRead(context: context, layers: plan.layers) * plan.kvHeads(config).count * config.headDim
    }
}
