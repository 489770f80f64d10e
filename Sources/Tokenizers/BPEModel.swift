import Foundation
import Synchronization

/// The `model` section: vocabulary plus ranked merges. Merging works on token ids: a merge
/// (left id, right id) → (rank, merged id) table avoids building strings while merging.
final class BPEModel: Sendable {
    struct Merge: Sendable { let rank: Int32; let merged: Int32 }

    let vocab: [String: Int]
    /// id → token string for the model vocabulary (nil for holes).
    let idToToken: [String?]
    let merges: [UInt64: Merge]
    /// Ids of single-scalar tokens, the starting symbols of every word.
    let scalarIds: [UInt32: Int]
    let unkId: Int?
    let fuseUnk: Bool
    let byteFallback: Bool
    /// ids of `<0x00>`…`<0xFF>` when byte_fallback is on.
    let byteFallbackIds: [Int]?
    let ignoreMerges: Bool
    init(json model: JSONObject) throws {
        let type = try model.string("type") ?? "BPE"  // HF omits "type" in some old files
        guard type == "BPE" else {
            throw TokenizerError.unsupportedModel(path: model.path, type: type, supported: ["BPE"])
        }
        guard !model.isNull("vocab") else { throw TokenizerError.missingField(path: model.path, field: "model.vocab") }
        guard let rawVocab = model.dict["vocab"] as? [String: Any] else {
            throw model.invalid("vocab", "expected an object mapping token → id")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = try model.string(key), !s.isEmpty {
                throw model.invalid(key, "non-empty \(key) is not supported")
            }
        }
        var vocab = [String: Int](minimumCapacity: rawVocab.count)
        var maxId = -1
        for (token, value) in rawVocab {
            guard let id = JSONObject.asInt(value), id >= 0 else {
                throw model.invalid("vocab", "token \(token.debugDescription) has a non-integer or negative id")
            }
            vocab[token] = id
            maxId = max(maxId, id)
        }
        var idToToken = [String?](repeating: nil, count: maxId + 1)
        var scalarIds: [UInt32: Int] = [:]
        for (token, id) in vocab {
            idToToken[id] = token
            let scalars = token.unicodeScalars
            if scalars.count == 1 { scalarIds[scalars.first!.value] = id }
        }
        self.vocab = vocab
        self.idToToken = idToToken
        self.scalarIds = scalarIds
        self.merges = try BPEModel.parseMerges(model, vocab: vocab)

        unkId = try model.string("unk_token").flatMap { vocab[$0] }
        fuseUnk = try model.bool("fuse_unk", default: false)
        byteFallback = try model.bool("byte_fallback", default: false)
        ignoreMerges = try model.bool("ignore_merges", default: false)
        if byteFallback {
            let ids = (0..<256).compactMap { vocab[String(format: "<0x%02X>", $0)] }
            byteFallbackIds = ids.count == 256 ? ids : nil
        } else {
            byteFallbackIds = nil
        }
    }

    /// Merges come as "left right" strings (older files, Qwen2) or ["left", "right"] pairs
    /// (tokenizers ≥ 0.20). Rank = position in the list.
    private static func parseMerges(_ model: JSONObject, vocab: [String: Int]) throws -> [UInt64: Merge] {
        if model.isNull("merges") { return [:] }
        guard let raw = model.dict["merges"] as? [Any] else { throw model.invalid("merges", "expected an array") }
        var table = [UInt64: Merge](minimumCapacity: raw.count)
        for (rank, entry) in raw.enumerated() {
            let left: String, right: String
            if let s = entry as? String {
                // Split at the first space *scalar* (a Character-level search would miss a space
                // followed by a combining mark, which Swift groups into one grapheme).
                let scalars = s.unicodeScalars
                guard let space = scalars.firstIndex(of: " ") else {
                    throw model.invalid("merges[\(rank)]", "expected \"left right\", got \(s.debugDescription)")
                }
                left = String(scalars[..<space]); right = String(scalars[scalars.index(after: space)...])
            } else if let pair = entry as? [Any], pair.count == 2, let l = pair[0] as? String, let r = pair[1] as? String {
                left = l; right = r
            } else {
                throw model.invalid("merges[\(rank)]", "expected a \"left right\" string or a [left, right] pair")
            }
            guard let l = vocab[left], let r = vocab[right], let m = vocab[left + right] else {
                throw model.invalid("merges[\(rank)]", "merge \(left.debugDescription) + \(right.debugDescription) uses tokens missing from the vocabulary")
            }
            let key = UInt64(l) << 32 | UInt64(r)
            if table[key] == nil { table[key] = Merge(rank: Int32(rank), merged: Int32(m)) }
        }
        return table
    }

    var maxId: Int { idToToken.count - 1 }

    /// Encodes one pre-tokenized word (already in the vocabulary's alphabet).
    func encode(word: String) -> [Int] {
        if word.isEmpty { return [] }
        if ignoreMerges, let id = vocab[word] { return [id] }
        var symbols: [Int] = []
        symbols.reserveCapacity(word.unicodeScalars.count)
        var lastWasUnk = false
        for scalar in word.unicodeScalars {
            if let id = scalarIds[scalar.value] {
                symbols.append(id)
                lastWasUnk = false
            } else if let fallback = byteFallbackIds {
                for b in String(scalar).utf8 { symbols.append(fallback[Int(b)]) }
                lastWasUnk = false
            } else if let unk = unkId {
                if !(fuseUnk && lastWasUnk) { symbols.append(unk) }
                lastWasUnk = true
            }
            // No unk token and no byte fallback: HF drops the character; so do we.
        }
        return symbols.count <= 48 ? mergeSmall(symbols) : mergeWithHeap(symbols)
    }

    @inline(__always) private func merge(_ left: Int, _ right: Int) -> Merge? {
        merges[UInt64(left) << 32 | UInt64(right)]
    }

    /// O(n²) loop: fastest for the short words that make up almost all text.
    func mergeSmall(_ input: [Int]) -> [Int] {
        var symbols = input
        while symbols.count > 1 {
            var best: Merge? = nil
            var bestPos = -1
            for i in 0..<(symbols.count - 1) {
                if let m = merge(symbols[i], symbols[i + 1]), best == nil || m.rank < best!.rank {
                    best = m; bestPos = i
                }
            }
            guard let best else { break }
            symbols[bestPos] = Int(best.merged)
            symbols.remove(at: bestPos + 1)
        }
        return symbols
    }

    /// Min-heap of candidate merges over a doubly linked list of symbols, ordered by
    /// (rank, position) like HF's `Word::merge_all`; stale candidates are skipped on pop.
    func mergeWithHeap(_ input: [Int]) -> [Int] {
        let n = input.count
        var ids = input
        var prev = Array(-1..<(n - 1))
        var next = Array(1...n); next[n - 1] = -1
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap()
        for i in 0..<(n - 1) {
            if let m = merge(ids[i], ids[i + 1]) { heap.push(.init(rank: m.rank, pos: Int32(i), right: ids[i + 1])) }
        }
        while let c = heap.pop() {
            let i = Int(c.pos)
            guard alive[i] else { continue }
            let j = next[i]
            // Stale if the right neighbour changed since the candidate was queued.
            guard j >= 0, ids[j] == c.right, let m = merge(ids[i], ids[j]), m.rank == c.rank else { continue }
            ids[i] = Int(m.merged)
            alive[j] = false
            next[i] = next[j]
            if next[j] >= 0 { prev[next[j]] = i }
            if prev[i] >= 0, let pm = merge(ids[prev[i]], ids[i]) {
                heap.push(.init(rank: pm.rank, pos: Int32(prev[i]), right: ids[i]))
            }
            if next[i] >= 0, let nm = merge(ids[i], ids[next[i]]) {
                heap.push(.init(rank: nm.rank, pos: Int32(i), right: ids[next[i]]))
            }
        }
        var out: [Int] = []
        var k = 0
        while k >= 0 { out.append(ids[k]); k = next[k] }
        return out
    }
}

/// Binary min-heap keyed by (rank, position).
private struct MergeHeap {
    struct Candidate { let rank: Int32; let pos: Int32; let right: Int }
    private var items: [Candidate] = []

    private static func less(_ a: Candidate, _ b: Candidate) -> Bool {
        a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos
    }

    mutating func push(_ c: Candidate) {
        items.append(c)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard MergeHeap.less(items[i], items[parent]) else { break }
            items.swapAt(i, parent); i = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && MergeHeap.less(items[l], items[m]) { m = l }
                if r < items.count && MergeHeap.less(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m); i = m
            }
        }
        return top
    }
}

/// word → ids cache. Real text repeats words constantly ("Ġthe", "Ċ", "ĠĠĠ"), so most pieces skip
/// BPE entirely. Kept outside the immutable model so a tokenizer copy can get a fresh one.
final class WordCache: Sendable {
    private let storage = Mutex<[String: [Int]]>([:])
    private let limit: Int

    init(limit: Int = 200_000) { self.limit = limit }

    func ids(for word: String, compute: (String) -> [Int]) -> [Int] {
        if let hit = storage.withLock({ $0[word] }) { return hit }
        let ids = compute(word)
        storage.withLock { cache in
            // Crude bound on memory: start over rather than track recency.
            if cache.count >= limit { cache.removeAll(keepingCapacity: true) }
            cache[word] = ids
        }
        return ids
    }

    var count: Int { storage.withLock { $0.count } }
}
