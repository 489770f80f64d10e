/// llama.cpp's `llm_tokenizer_spm_session`: split escaped text into UTF-8 characters, then keep
/// merging the adjacent pair whose concatenation is a vocabulary piece with the highest score
/// (ties: leftmost), using a max-heap of candidate pairs over a linked list of symbols. Symbols
/// that end up not being pieces are emitted as byte tokens.
struct SentencePieceMerger: Sendable {
    private struct Symbol {
        var start: Int32
        var length: Int32  // 0 once merged into its left neighbour
        var prev: Int32
        var next: Int32
    }

    private struct Bigram {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32

        /// Heap order: higher score first, then the leftmost pair.
        @inline(__always)
        func before(_ other: Bigram) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    let table: SentencePiecePieceTable
    let scores: [Float]
    /// Id for each byte value when a character is not a piece, or -1 (see `SentencePieceTokenizer`).
    let byteTokens: [Int32]

    /// Appends the ids for `text` (already whitespace-escaped) to `output`.
    func tokenize(_ text: [UInt8], into output: inout [Int]) {
        let n = text.count
        if n == 0 { return }
        text.withUnsafeBufferPointer { text in
            // UTF-8 characters by lead byte, as llama.cpp's unicode_len_utf8.
            var symbols: [Symbol] = []
            symbols.reserveCapacity(n)
            var offset = 0
            while offset < n {
                let lead = text[offset]
                let len = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
                let size = min(len, n - offset)
                let index = Int32(symbols.count)
                offset += size
                symbols.append(Symbol(start: Int32(offset - size), length: Int32(size),
                                      prev: index - 1, next: offset == n ? -1 : index + 1))
            }

            var heap: [Bigram] = []
            heap.reserveCapacity(symbols.count)

            func tryAddBigram(_ left: Int32, _ right: Int32) {
                if left < 0 || right < 0 { return }
                let l = symbols[Int(left)], r = symbols[Int(right)]
                let size = Int(l.length + r.length)
                let id = table.id(of: UnsafeBufferPointer(rebasing: text[Int(l.start)..<Int(l.start) + size]))
                if id < 0 { return }
                Self.push(&heap, Bigram(score: scores[Int(id)], left: left, right: right, size: Int32(size)))
            }

            for i in 1..<max(symbols.count, 1) { tryAddBigram(Int32(i - 1), Int32(i)) }

            while let bigram = Self.pop(&heap) {
                let left = Int(bigram.left), right = Int(bigram.right)
                // Skip pairs made stale by an earlier merge.
                if symbols[left].length == 0 || symbols[right].length == 0
                    || symbols[left].length + symbols[right].length != bigram.size {
                    continue
                }
                symbols[left].length += symbols[right].length
                symbols[right].length = 0
                symbols[left].next = symbols[right].next
                if symbols[right].next >= 0 { symbols[Int(symbols[right].next)].prev = bigram.left }
                tryAddBigram(symbols[left].prev, bigram.left)
                tryAddBigram(bigram.left, symbols[left].next)
            }

            var i: Int32 = 0
            while i != -1 {
                let s = symbols[Int(i)]
                let piece = UnsafeBufferPointer(rebasing: text[Int(s.start)..<Int(s.start + s.length)])
                let id = table.id(of: piece)
                if id >= 0 {
                    output.append(Int(id))
                } else {
                    for b in piece where byteTokens[Int(b)] >= 0 { output.append(Int(byteTokens[Int(b)])) }
                }
                i = s.next
            }
        }
    }

    private static func push(_ heap: inout [Bigram], _ item: Bigram) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !heap[child].before(heap[parent]) { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private static func pop(_ heap: inout [Bigram]) -> Bigram? {
        guard let last = heap.popLast() else { return nil }
        if heap.isEmpty { return last }
        let top = heap[0]
        heap[0] = last
        var parent = 0
        let count = heap.count
        while true {
            let l = 2 * parent + 1, r = l + 1
            var best = parent
            if l < count && heap[l].before(heap[best]) { best = l }
            if r < count && heap[r].before(heap[best]) { best = r }
            if best == parent { break }
            heap.swapAt(parent, best)
            parent = best
        }
        return top
    }
}
