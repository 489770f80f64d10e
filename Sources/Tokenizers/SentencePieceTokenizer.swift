/// A GGUF `tokenizer.ggml.model = "llama"` tokenizer (SentencePiece-style BPE as llama.cpp
/// implements it, "SPM"), used by Llama 1/2, Mistral, Gemma and others.
///
/// Encoding (llama.cpp `llama_vocab::impl::tokenize`, SPM branch):
/// 1. special tokens are split out first: user-defined tokens (type 4) always, control (3) and
///    unknown (2) tokens only when `parseSpecial` (see `SentencePieceSpecialMatcher`);
/// 2. each remaining text fragment gets a leading space if `addSpacePrefix` and it is the first
///    fragment or follows a special token, has every space written as "▁" (U+2581), and is merged
///    by score (`SentencePieceMerger`); characters that are not pieces become `<0xAB>` byte tokens;
/// 3. BOS is prepended when `addSpecialTokens && addBOS` (EOS appended likewise with `addEOS`).
///
/// Decoding (llama.cpp `token_to_piece`): normal pieces with "▁" → " ", byte tokens → their byte,
/// user-defined tokens verbatim, control/unknown tokens verbatim unless skipped, unused tokens
/// nothing; then lossy UTF-8 like `BPETokenizer`. Pieces are concatenated as they are: no leading
/// space is stripped even with `addSpacePrefix`, so `decode` of a whole sequence, of single ids
/// and `IncrementalDetokenizer` all agree.
///
/// A cheap handle over an immutable shared core; copies can be passed across tasks freely.
public struct SentencePieceTokenizer: Sendable {
    /// GGUF `tokenizer.ggml.token_type` values (llama.cpp `llama_token_type`).
    public enum TokenType: Int32, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    final class Core: Sendable {
        let table: SentencePiecePieceTable
        let special: SentencePieceSpecialMatcher
        let merger: SentencePieceMerger
        let tokenTypes: [Int32]
        /// Decoded bytes of every id: `decoded[decodedOffsets[i]..<decodedOffsets[i + 1]]`.
        let decoded: [UInt8]
        let decodedOffsets: [Int32]
        let bosTokenId: Int?
        let eosTokenId: Int?
        let unknownTokenId: Int?
        let addBOS: Bool
        let addEOS: Bool
        let addSpacePrefix: Bool

        init(table: SentencePiecePieceTable, special: SentencePieceSpecialMatcher, merger: SentencePieceMerger,
             tokenTypes: [Int32], decoded: [UInt8], decodedOffsets: [Int32], bosTokenId: Int?, eosTokenId: Int?,
             unknownTokenId: Int?, addBOS: Bool, addEOS: Bool, addSpacePrefix: Bool) {
            self.table = table
            self.special = special
            self.merger = merger
            self.tokenTypes = tokenTypes
            self.decoded = decoded
            self.decodedOffsets = decodedOffsets
            self.bosTokenId = bosTokenId
            self.eosTokenId = eosTokenId
            self.unknownTokenId = unknownTokenId
            self.addBOS = addBOS
            self.addEOS = addEOS
            self.addSpacePrefix = addSpacePrefix
        }
    }

    let core: Core

    /// Builds the tokenizer from GGUF metadata: `tokenizer.ggml.tokens`, `.scores`, `.token_type`,
    /// `.bos_token_id`, `.eos_token_id`, `.unknown_token_id`, `.add_bos_token`, `.add_space_prefix`
    /// and, optionally, `.add_eos_token`. `source` names the file in error messages.
    ///
    /// A byte that must fall back uses the piece `<0xAB>`, else the one-character piece for an
    /// ASCII byte (as llama.cpp), else `unknownTokenId`, else it is dropped.
    public init(tokens: [String], scores: [Float], tokenTypes: [Int32], bosTokenId: Int?, eosTokenId: Int?,
                unknownTokenId: Int?, addBOS: Bool, addSpacePrefix: Bool, addEOS: Bool = false,
                source: String = "GGUF tokenizer metadata") throws {
        func invalid(_ field: String, _ reason: String) -> TokenizerError {
            .invalidField(path: source, field: "tokenizer.ggml." + field, reason: reason)
        }
        let n = tokens.count
        guard n > 0 else { throw invalid("tokens", "the vocabulary is empty") }
        guard n < Int(Int32.max) else { throw invalid("tokens", "\(n) pieces is too many") }
        guard scores.count == n else {
            throw invalid("scores", "has \(scores.count) entries but tokenizer.ggml.tokens has \(n)")
        }
        guard tokenTypes.count == n else {
            throw invalid("token_type", "has \(tokenTypes.count) entries but tokenizer.ggml.tokens has \(n)")
        }
        for (field, id) in [("bos_token_id", bosTokenId), ("eos_token_id", eosTokenId), ("unknown_token_id", unknownTokenId)] {
            if let id, !(0..<n).contains(id) {
                throw invalid(field, "\(id) is outside the vocabulary (0..<\(n))")
            }
        }
        if addBOS && bosTokenId == nil { throw invalid("add_bos_token", "is true but there is no bos_token_id") }
        if addEOS && eosTokenId == nil { throw invalid("add_eos_token", "is true but there is no eos_token_id") }

        let table = SentencePiecePieceTable(tokens: tokens)

        // Decoded bytes per id.
        var decoded: [UInt8] = []
        decoded.reserveCapacity(table.bytes.count)
        var decodedOffsets: [Int32] = [0]
        decodedOffsets.reserveCapacity(n + 1)
        for id in 0..<n {
            let piece = table.pieceBytes(id)
            switch TokenType(rawValue: tokenTypes[id]) {
            case .normal:
                // "▁" (E2 96 81) → " "
                var i = piece.startIndex
                while i < piece.endIndex {
                    if piece[i] == 0xE2, i + 2 < piece.endIndex, piece[i + 1] == 0x96, piece[i + 2] == 0x81 {
                        decoded.append(0x20)
                        i += 3
                    } else {
                        decoded.append(piece[i])
                        i += 1
                    }
                }
            case .byte:
                guard let byte = Self.byteValue(piece) else {
                    throw invalid("tokens", "byte token \(id) is \(tokens[id].debugDescription), expected the form <0xAB>")
                }
                decoded.append(byte)
            case .control, .unknown, .userDefined:
                decoded.append(contentsOf: piece)
            case .unused, .undefined, nil:
                break
            }
            decodedOffsets.append(Int32(decoded.count))
        }

        // Byte fallback ids, as llama.cpp's byte_to_token.
        var byteTokens = [Int32](repeating: -1, count: 256)
        let hex = Array("0123456789ABCDEF".utf8)
        for b in 0..<256 {
            var id = table.id(of: [0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E])  // "<0xAB>"
            if id < 0 && b < 0x80 { id = table.id(of: [UInt8(b)]) }
            if id < 0, let unk = unknownTokenId { id = Int32(unk) }
            byteTokens[b] = id
        }

        core = Core(
            table: table,
            special: SentencePieceSpecialMatcher(table: table, tokenTypes: tokenTypes),
            merger: SentencePieceMerger(table: table, scores: scores, byteTokens: byteTokens),
            tokenTypes: tokenTypes, decoded: decoded, decodedOffsets: decodedOffsets,
            bosTokenId: bosTokenId, eosTokenId: eosTokenId, unknownTokenId: unknownTokenId,
            addBOS: addBOS, addEOS: addEOS, addSpacePrefix: addSpacePrefix)
    }

    /// The byte of a `<0xAB>` piece.
    private static func byteValue(_ piece: ArraySlice<UInt8>) -> UInt8? {
        let p = Array(piece)
        guard p.count == 6, p[0] == 0x3C, p[1] == 0x30, p[2] == 0x78, p[5] == 0x3E else { return nil }
        return UInt8(String(decoding: p[3...4], as: UTF8.self), radix: 16)
    }

    public var bosTokenId: Int? { core.bosTokenId }
    public var eosTokenId: Int? { core.eosTokenId }
    public var unknownTokenId: Int? { core.unknownTokenId }
    public var addsBOS: Bool { core.addBOS }
    public var addsSpacePrefix: Bool { core.addSpacePrefix }
    /// Number of pieces (ids are 0..<vocabSize).
    public var vocabSize: Int { core.tokenTypes.count }

    /// The piece as stored in the vocabulary (e.g. "▁the", "<0x0A>", "<start_of_turn>").
    public func tokenString(_ id: Int) -> String? {
        guard id >= 0, id < vocabSize else { return nil }
        return String(decoding: core.table.pieceBytes(id), as: UTF8.self)
    }

    /// Id of the piece with exactly these bytes (for duplicates, the last id, as llama.cpp).
    public func tokenId(_ token: String) -> Int? {
        let id = core.table.id(of: Array(token.utf8))
        return id < 0 ? nil : Int(id)
    }

    public func tokenType(_ id: Int) -> TokenType? {
        guard id >= 0, id < vocabSize else { return nil }
        return TokenType(rawValue: core.tokenTypes[id]) ?? .undefined
    }

    /// Control and unknown tokens: dropped by `skipSpecialTokens` (llama.cpp's attr_special).
    public func isSpecialToken(_ id: Int) -> Bool {
        let type = tokenType(id)
        return type == .control || type == .unknown
    }

    /// Encodes with special tokens parsed in the text (llama.cpp's `parse_special = true`, as
    /// llama-server does for prompts); BOS/EOS added per the GGUF flags when `addSpecialTokens`.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        encode(text, addSpecialTokens: addSpecialTokens, parseSpecial: true)
    }

    /// `parseSpecial: false` treats control/unknown token text (e.g. "<start_of_turn>") as plain
    /// text; user-defined tokens are still matched first, as in llama.cpp.
    public func encode(_ text: String, addSpecialTokens: Bool, parseSpecial: Bool) -> [Int] {
        let core = self.core
        var output: [Int] = []
        if addSpecialTokens && core.addBOS, let bos = core.bosTokenId { output.append(bos) }
        let bytes = Array(text.utf8)
        var isPrevSpecial = true
        var escaped: [UInt8] = []
        for fragment in core.special.split(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                output.append(id)
                isPrevSpecial = true
            case .text(let range):
                escaped.removeAll(keepingCapacity: true)
                escaped.reserveCapacity(range.count + 16)
                if core.addSpacePrefix && isPrevSpecial { escaped += [0xE2, 0x96, 0x81] }
                for b in bytes[range] {
                    if b == 0x20 { escaped += [0xE2, 0x96, 0x81] } else { escaped.append(b) }
                }
                core.merger.tokenize(escaped, into: &output)
                isPrevSpecial = false
            }
        }
        if addSpecialTokens && core.addEOS, let eos = core.eosTokenId { output.append(eos) }
        return output
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if let b = tokenBytes(id, skipSpecialTokens: skipSpecialTokens) { bytes += b }
        }
        return LossyUTF8.decode(bytes, final: true).text
    }

    /// Raw bytes one id contributes to decoded text; nil for out-of-range or skipped ids.
    public func tokenBytes(_ id: Int, skipSpecialTokens: Bool) -> [UInt8]? {
        guard id >= 0, id < vocabSize else { return nil }
        if skipSpecialTokens && isSpecialToken(id) { return nil }
        return Array(core.decoded[Int(core.decodedOffsets[id])..<Int(core.decodedOffsets[id + 1])])
    }
}

extension SentencePieceTokenizer: Tokenizer {}
