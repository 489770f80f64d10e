import Foundation
import ModelFormats
import Tokenizers

/// The tokenizer that goes with a model: `tokenizer.json` beside safetensors, or the
/// `tokenizer.ggml.*` metadata inside a GGUF file.
public enum TokenizerLoader {
    public static func load(directory: String) throws -> any Tokenizer {
        try BPETokenizer(directory: URL(fileURLWithPath: directory))
    }

    /// SentencePiece-style (`llama`) vocabularies; llama.cpp's defaults where a key is absent.
    public static func load(gguf: GGUFFile) throws -> any Tokenizer {
        let d = try gguf.tokenizerData()
        if d.isByteLevelBPE { return try GGUFByteLevelBPE.tokenizer(d, source: gguf.path) }
        guard d.isSentencePiece else {
            throw ModelFormatError.badConfig(path: gguf.path, reason: "tokenizer.ggml.model '\(d.model)' is not supported yet; supported: llama (SentencePiece), gpt2 (byte-level BPE)")
        }
        let n = d.tokens.count
        return try SentencePieceTokenizer(
            tokens: d.tokens, scores: d.scores ?? Array(repeating: 0, count: n),
            tokenTypes: d.tokenTypes ?? Array(repeating: 1, count: n),
            bosTokenId: d.bosTokenId, eosTokenId: d.eosTokenId, unknownTokenId: d.unknownTokenId,
            addBOS: d.addBosToken ?? true, addSpacePrefix: d.addSpacePrefix ?? true, addEOS: d.addEosToken ?? false,
            source: gguf.path)
    }

    /// Ids that end generation: the config's EOS ids, `generation_config.json`'s (as vLLM
    /// reads them) and the tokenizer's.
    public static func stopTokenIds(config: ModelConfig, tokenizer: any Tokenizer, directory: String) -> Set<Int> {
        var ids = Set(config.eosTokenIds)
        if let eos = tokenizer.eosTokenId { ids.insert(eos) }
        let path = URL(fileURLWithPath: directory).appendingPathComponent("generation_config.json")
        if let data = try? Data(contentsOf: path), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let one = json["eos_token_id"] as? Int { ids.insert(one) }
            if let many = json["eos_token_id"] as? [Int] { ids.formUnion(many) }
        }
        return ids
    }

    /// For GGUF files, also the end-of-turn marker llama.cpp finds by its text: Gemma's
    /// `<end_of_turn>` is not in the file's EOS key but ends every chat turn.
    public static func stopTokenIds(config: ModelConfig, tokenizer: any Tokenizer) -> Set<Int> {
        var ids = Set(config.eosTokenIds)
        if let eos = tokenizer.eosTokenId { ids.insert(eos) }
        for marker in ["<end_of_turn>", "<|eot_id|>", "<|im_end|>"] {
            if let id = tokenizer.tokenId(marker), tokenizer.isSpecialToken(id) { ids.insert(id) }
        }
        return ids
    }
}
