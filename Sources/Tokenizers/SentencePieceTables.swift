/// Lookup structures behind `SentencePieceTokenizer`, built once per vocabulary.
///
/// Pieces are compared as raw UTF-8 bytes, exactly as llama.cpp's `std::string` keys do.
/// (A `[String: Int]` would treat canonically equivalent strings, e.g. precomposed and
/// decomposed "é", as the same key, and would cost a String allocation per lookup.)

/// Open-addressing hash table from a piece's UTF-8 bytes to its id.
struct SentencePiecePieceTable: Sendable {
    /// Every piece's bytes, concatenated; piece `i` is `bytes[offsets[i]..<offsets[i + 1]]`.
    let bytes: [UInt8]
    let offsets: [Int32]
    /// Ids (or -1 for empty) at power-of-two size, linear probing.
    private let slots: [Int32]
    private let mask: Int

    init(tokens: [String]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokens.count * 8)
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(tokens.count + 1)
        for t in tokens {
            bytes.append(contentsOf: t.utf8)
            offsets.append(Int32(bytes.count))
        }
        var capacity = 16
        while capacity < tokens.count * 2 { capacity <<= 1 }
        let mask = capacity - 1
        var slots = [Int32](repeating: -1, count: capacity)
        bytes.withUnsafeBufferPointer { all in
            slots.withUnsafeMutableBufferPointer { slots in
                for id in 0..<tokens.count {
                    let start = Int(offsets[id]), end = Int(offsets[id + 1])
                    if start == end { continue }  // llama.cpp renames empty pieces; they never match
                    let piece = UnsafeBufferPointer(rebasing: all[start..<end])
                    var s = Self.hash(piece) & mask
                    while slots[s] >= 0 {
                        let other = Int(slots[s])
                        let o = UnsafeBufferPointer(rebasing: all[Int(offsets[other])..<Int(offsets[other + 1])])
                        if o.elementsEqual(piece) { break }  // duplicate text: the later id wins, as in llama.cpp
                        s = (s + 1) & mask
                    }
                    slots[s] = Int32(id)
                }
            }
        }
        self.bytes = bytes
        self.offsets = offsets
        self.slots = slots
        self.mask = mask
    }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for b in p { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// Id of the piece whose bytes are exactly `key`, or -1.
    func id(of key: UnsafeBufferPointer<UInt8>) -> Int32 {
        if key.isEmpty { return -1 }
        return bytes.withUnsafeBufferPointer { all in
            slots.withUnsafeBufferPointer { slots in
                offsets.withUnsafeBufferPointer { offsets in
                    var s = Self.hash(key) & mask
                    while true {
                        let id = slots[s]
                        if id < 0 { return -1 }
                        let start = Int(offsets[Int(id)]), end = Int(offsets[Int(id) + 1])
                        if end - start == key.count && bytesEqual(all.baseAddress! + start, key.baseAddress!, key.count) {
                            return id
                        }
                        s = (s + 1) & mask
                    }
                }
            }
        }
    }

    func id(of key: [UInt8]) -> Int32 {
        key.withUnsafeBufferPointer { id(of: $0) }
    }

    /// The piece's bytes as stored.
    func pieceBytes(_ id: Int) -> ArraySlice<UInt8> {
        bytes[Int(offsets[id])..<Int(offsets[id + 1])]
    }
}

@inline(__always)
private func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}

/// Finds special tokens in raw text the way llama.cpp's `tokenizer_st_partition` does: tokens are
/// taken in order of decreasing byte length (ties: lower id first, where llama.cpp's unstable sort
/// leaves the order unspecified), and each one claims all of its non-overlapping occurrences,
/// leftmost first, that lie wholly inside text no earlier token claimed. What remains is raw text.
struct SentencePieceSpecialMatcher: Sendable {
    struct Special: Sendable {
        let id: Int
        let length: Int
        /// Control and unknown tokens are matched only when parsing special tokens; user-defined
        /// tokens always are.
        let needsParseSpecial: Bool
    }

    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int)
    }

    /// Sorted by decreasing length, then id; a token's rank is its index here.
    let specials: [Special]
    /// Trie over the specials' bytes: children of the root by first byte, other edges keyed by
    /// `node << 8 | byte`; `terminal[node]` is the rank ending there, or -1.
    private let rootChild: [Int32]
    private let edges: [Int: Int32]
    private let terminal: [Int32]

    init(table: SentencePiecePieceTable, tokenTypes: [Int32]) {
        var list: [Special] = []
        for (id, type) in tokenTypes.enumerated() {
            let kind = SentencePieceTokenizer.TokenType(rawValue: type)
            guard kind == .control || kind == .userDefined || kind == .unknown else { continue }
            let length = Int(table.offsets[id + 1] - table.offsets[id])
            guard length > 0 else { continue }
            list.append(Special(id: id, length: length, needsParseSpecial: kind != .userDefined))
        }
        list.sort { $0.length != $1.length ? $0.length > $1.length : $0.id < $1.id }

        var rootChild = [Int32](repeating: -1, count: 256)
        var edges: [Int: Int32] = [:]
        var terminal: [Int32] = [-1]  // node 0 is the root
        for (rank, special) in list.enumerated() {
            var node = 0
            for (depth, b) in table.pieceBytes(special.id).enumerated() {
                let existing = depth == 0 ? rootChild[Int(b)] : (edges[node << 8 | Int(b)] ?? -1)
                if existing >= 0 {
                    node = Int(existing)
                } else {
                    let child = terminal.count
                    terminal.append(-1)
                    if depth == 0 { rootChild[Int(b)] = Int32(child) } else { edges[node << 8 | Int(b)] = Int32(child) }
                    node = child
                }
            }
            if terminal[node] < 0 { terminal[node] = Int32(rank) }  // duplicate text: keep the first rank
        }
        self.specials = list
        self.rootChild = rootChild
        self.edges = edges
        self.terminal = terminal
    }

    /// Splits `text` into raw-text ranges and special-token ids, in order.
    func split(_ text: [UInt8], parseSpecial: Bool) -> [Fragment] {
        let n = text.count
        if n == 0 { return [] }
        // Every occurrence of every eligible special token, as (rank, position).
        var occurrences: [(rank: Int32, pos: Int32)] = []
        for p in 0..<n {
            var node = rootChild[Int(text[p])]
            var q = p + 1
            while node >= 0 {
                let rank = terminal[Int(node)]
                if rank >= 0 && (parseSpecial || !specials[Int(rank)].needsParseSpecial) {
                    occurrences.append((rank, Int32(p)))
                }
                guard q < n, let next = edges[Int(node) << 8 | Int(text[q])] else { break }
                node = next
                q += 1
            }
        }
        if occurrences.isEmpty { return [.text(0..<n)] }
        occurrences.sort { $0.rank != $1.rank ? $0.rank < $1.rank : $0.pos < $1.pos }

        // Claim occurrences token by token; an occurrence touching claimed bytes is skipped.
        var claimed = [Bool](repeating: false, count: n)
        var matches: [(pos: Int, length: Int, id: Int)] = []
        for (rank, pos) in occurrences {
            let special = specials[Int(rank)]
            let start = Int(pos), end = start + special.length
            if claimed[start..<end].contains(true) { continue }
            for i in start..<end { claimed[i] = true }
            matches.append((start, special.length, special.id))
        }
        matches.sort { $0.pos < $1.pos }
        var fragments: [Fragment] = []
        var cursor = 0
        for m in matches {
            if m.pos > cursor { fragments.append(.text(cursor..<m.pos)) }
            fragments.append(.token(m.id))
            cursor = m.pos + m.length
        }
        if cursor < n { fragments.append(.text(cursor..<n)) }
        return fragments
    }
}
