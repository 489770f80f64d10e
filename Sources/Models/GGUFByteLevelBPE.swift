import ModelFormats
import Tokenizers

/// A GGUF's `gpt2` vocabulary (Llama 3, Qwen2 and most BPE models) as a byte-level BPE
/// tokenizer: tokens and merges from `tokenizer.ggml.*`, control and user-defined tokens as added
/// tokens, and the pre-tokenizer llama.cpp picks by `tokenizer.ggml.pre` (no normalizer, as
/// llama.cpp applies none).
enum GGUFByteLevelBPE {
    /// llama.cpp's split patterns for the pre-tokenizers we know, by `tokenizer.ggml.pre`.
    static let patterns: [String: String] = [
        "llama-bpe": llama3, "llama3": llama3, "llama-v3": llama3, "smaug-bpe": llama3,
        "qwen2": #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
        "default": gpt2, "gpt-2": gpt2, "gpt2": gpt2,
    ]
    static let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    static func tokenizer(_ d: GGUFTokenizerData, source: String) throws -> BPETokenizer {
        let pre = d.pre ?? "default"
        guard let pattern = patterns[pre] else {
            throw ModelFormatError.badConfig(path: source, reason: "tokenizer.ggml.pre '\(pre)' is not supported yet; supported: \(patterns.keys.sorted().joined(separator: ", "))")
        }
        guard let merges = d.merges else {
            throw ModelFormatError.badConfig(path: source, reason: "a gpt2 tokenizer without tokenizer.ggml.merges")
        }
        var vocab: [String: Int] = [:]
        for (id, token) in d.tokens.enumerated() where vocab[token] == nil { vocab[token] = id }
        // GGML token types: 3 = control, 4 = user-defined; both are matched before BPE.
        var added: [[String: Any]] = []
        for (id, type) in (d.tokenTypes ?? []).enumerated() where type == 3 || type == 4 {
            added.append(["id": id, "content": d.tokens[id], "special": type == 3, "single_word": false,
                          "lstrip": false, "rstrip": false, "normalized": false])
        }
        var post: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false]
        if d.addBosToken ?? (pre.hasPrefix("llama")), let bos = d.bosTokenId {
            post = ["type": "TemplateProcessing",
                    "single": [["SpecialToken": ["id": "<bos>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
                    "special_tokens": ["<bos>": ["id": "<bos>", "ids": [bos], "tokens": [d.tokens[bos]]]]]
        }
        let json: [String: Any] = [
            "model": ["type": "BPE", "vocab": vocab, "merges": merges, "byte_fallback": false,
                      "ignore_merges": pre.hasPrefix("llama")],
            "added_tokens": added,
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false],
            ]],
            "post_processor": post,
            "decoder": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false],
        ]
        return try BPETokenizer(tokenizerJSON: json, source: source, bosTokenId: d.bosTokenId, eosTokenId: d.eosTokenId)
    }
}
