/// What `IncrementalDetokenizer` (and code that serves any model) needs from a tokenizer:
/// `BPETokenizer` (tokenizer.json) and `SentencePieceTokenizer` (GGUF "llama") conform.
public protocol Tokenizer: Sendable {
    var bosTokenId: Int? { get }
    var eosTokenId: Int? { get }
    /// Number of ids, i.e. max id + 1.
    var vocabSize: Int { get }
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String
    /// True for tokens that `skipSpecialTokens` drops.
    func isSpecialToken(_ id: Int) -> Bool
    /// The token's string as stored in the vocabulary.
    func tokenString(_ id: Int) -> String?
    /// Id of the vocabulary entry with exactly this content.
    func tokenId(_ token: String) -> Int?
    /// Raw bytes one id contributes to decoded text; nil for unknown or skipped ids.
    func tokenBytes(_ id: Int, skipSpecialTokens: Bool) -> [UInt8]?
}

extension Tokenizer {
    /// Encodes with the model's special tokens (BOS) added, as a prompt is.
    public func encode(_ text: String) -> [Int] { encode(text, addSpecialTokens: true) }
    /// Decodes every id, special tokens included.
    public func decode(_ ids: [Int]) -> String { decode(ids, skipSpecialTokens: false) }
}
