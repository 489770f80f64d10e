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
    /// Runs one step; returns logits [logitRows.count, vocab].
    func forward(_ batch: ForwardBatch, caches: [PagedKVCache]) -> Tensor
}

extension CausalLanguageModel {
    /// One cache per layer, sized for `numBlocks` blocks of `blockSize` tokens.
    public func makeKVCaches(numBlocks: Int, blockSize: Int) -> [PagedKVCache] {
        (0..<config.numLayers).map { _ in
            PagedKVCache(numBlocks: numBlocks, blockSize: blockSize, numKVHeads: config.numKVHeads, headDim: config.headDim)
        }
    }
}
