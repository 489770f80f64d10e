import Foundation

/// One request of a benchmark: its prompt text and the lengths it should have.
public struct BenchPrompt: Sendable, Equatable {
    public var text: String
    /// Prompt tokens as the server counts them (exact when `exactLength`).
    public var promptTokens: Int
    /// Tokens to generate (`max_tokens`, with `ignore_eos`).
    public var outputTokens: Int
    /// Whether `promptTokens` came from the server's tokenizer rather than an estimate.
    public var exactLength: Bool
    /// For shared-prefix prompts, which prefix.
    public var prefixIndex: Int?

    public init(text: String, promptTokens: Int, outputTokens: Int, exactLength: Bool, prefixIndex: Int? = nil) {
        self.text = text
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.exactLength = exactLength
        self.prefixIndex = prefixIndex
    }
}

public enum DatasetKind: String, Sendable, CaseIterable {
    case random
    case sharedPrefix = "shared-prefix"
    case sharegpt
}

public struct DatasetOptions: Sendable {
    public var kind: DatasetKind = .random
    public var path: String?
    public var numPrompts = 1000
    public var inputLen = 1024
    /// nil: 128 for the synthetic datasets, the reply's length for ShareGPT.
    public var outputLen: Int?
    /// Lengths are drawn uniformly from [len·(1−r), len·(1+r)].
    public var rangeRatio = 0.0
    public var sharedPrefixLen = 256
    public var numPrefixes = 4
    public var seed: UInt64 = 0
    /// Prompts longer than this (with their output) are skipped from ShareGPT.
    public var maxModelLen: Int?

    public init() {}

    public static let defaultOutputLen = 128

    public func validate() throws {
        guard numPrompts > 0 else { throw BenchError("--num-prompts must be positive") }
        guard inputLen > 0 else { throw BenchError("--input-len must be positive") }
        if let outputLen, outputLen <= 0 { throw BenchError("--output-len must be positive") }
        guard rangeRatio >= 0 && rangeRatio < 1 else { throw BenchError("--range-ratio must be in [0, 1), got \(rangeRatio)") }
        if kind == .sharedPrefix {
            guard sharedPrefixLen > 0 else { throw BenchError("--shared-prefix-len must be positive") }
            guard numPrefixes > 0 else { throw BenchError("--num-prefixes must be positive") }
        }
        if kind == .sharegpt && path == nil { throw BenchError("--dataset sharegpt needs --dataset-path FILE") }
    }
}

/// Builds the prompts of a benchmark. With a tokenizer (the server's), synthetic prompts have
/// exactly the requested number of tokens; without one, lengths are estimates.
public struct DatasetBuilder: Sendable {
    public let options: DatasetOptions
    let tokenizer: (any PromptTokenizer)?
    /// Special tokens the tokenizer adds to any text (e.g. BOS), at the front and at the back.
    let leadingSpecials: [Int]
    let trailingSpecials: Int

    public static func make(_ options: DatasetOptions, tokenizer: (any PromptTokenizer)?) async throws -> DatasetBuilder {
        try options.validate()
        var leading: [Int] = [], trailing = 0
        if let tokenizer {
            let empty = try await tokenizer.tokenize("")
            let probe = try await tokenizer.tokenize("x")
            let common = zip(empty, probe).prefix { $0 == $1 }.count
            leading = Array(empty.prefix(common))
            trailing = empty.count - common
        }
        return DatasetBuilder(options: options, tokenizer: tokenizer, leadingSpecials: leading, trailingSpecials: trailing)
    }

    public func build() async throws -> [BenchPrompt] {
        switch options.kind {
        case .random: return try await random()
        case .sharedPrefix: return try await sharedPrefix()
        case .sharegpt: return try await shareGPT()
        }
    }

    // MARK: lengths

    func length(_ base: Int, _ rng: inout SeededRandom) -> Int {
        guard options.rangeRatio > 0 else { return base }
        let lo = max(1, Int((Double(base) * (1 - options.rangeRatio)).rounded(.down)))
        let hi = max(lo, Int((Double(base) * (1 + options.rangeRatio)).rounded(.up)))
        return Int.random(in: lo...hi, using: &rng)
    }

    var outputLen: Int { options.outputLen ?? DatasetOptions.defaultOutputLen }

    // MARK: random

    func random() async throws -> [BenchPrompt] {
        try await concurrentMap(0..<options.numPrompts) { i in
            var rng = SeededRandom.forItem(i, seed: options.seed)
            let input = length(options.inputLen, &rng)
            let output = length(outputLen, &rng)
            let (text, count, exact) = try await text(tokens: input, rng: &rng)
            return BenchPrompt(text: text, promptTokens: count, outputTokens: output, exactLength: exact)
        }
    }

    // MARK: shared prefix

    /// `numPrefixes` prefixes of `sharedPrefixLen` tokens; prompt i takes prefix i mod P and a
    /// random suffix of `inputLen` tokens, so a prefix cache can serve the shared part.
    func sharedPrefix() async throws -> [BenchPrompt] {
        let prefixes = try await concurrentMap(0..<options.numPrefixes) { p in
            var rng = SeededRandom.forItem(p, seed: options.seed ^ 0xA5A5_A5A5_0000_0000)
            return try await text(tokens: options.sharedPrefixLen, rng: &rng, countSpecials: false).0
        }
        return try await concurrentMap(0..<options.numPrompts) { i in
            var rng = SeededRandom.forItem(i, seed: options.seed)
            let input = length(options.inputLen, &rng)
            let output = length(outputLen, &rng)
            let (suffix, _, _) = try await text(tokens: input, rng: &rng, countSpecials: false)
            let p = i % options.numPrefixes
            let prompt = prefixes[p] + " " + suffix
            if let tokenizer {
                return BenchPrompt(text: prompt, promptTokens: try await tokenizer.tokenize(prompt).count,
                                   outputTokens: output, exactLength: true, prefixIndex: p)
            }
            return BenchPrompt(text: prompt, promptTokens: options.sharedPrefixLen + input, outputTokens: output,
                               exactLength: false, prefixIndex: p)
        }
    }

    // MARK: ShareGPT

    struct Conversation {
        var prompt: String
        var reply: String?
    }

    /// The conversations of a ShareGPT file: a list of `{"conversations": [{"from": "human",
    /// "value": ...}, {"from": "gpt", "value": ...}, ...]}`. Every way the file can be wrong is
    /// one line naming it.
    public static func loadShareGPT(path: String) throws -> [(prompt: String, reply: String?)] {
        guard FileManager.default.fileExists(atPath: path) else { throw BenchError("\(path): no such file") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw BenchError("\(path): cannot read the file (\(OpenAIClient.oneLine(error.localizedDescription)))")
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data) } catch {
            throw BenchError("\(path): not valid JSON; expected a ShareGPT list of {\"conversations\": [...]}")
        }
        guard let list = json as? [Any] else {
            throw BenchError("\(path): expected a JSON list of ShareGPT entries, each {\"conversations\": [{\"from\": ..., \"value\": ...}, ...]}")
        }
        var out: [(prompt: String, reply: String?)] = []
        for (i, item) in list.enumerated() {
            guard let entry = item as? [String: Any], let turns = (entry["conversations"] ?? entry["conversation"]) as? [Any] else {
                throw BenchError("\(path): entry \(i) has no \"conversations\" list")
            }
            var parsed: [(from: String, value: String)] = []
            for (j, turn) in turns.enumerated() {
                guard let t = turn as? [String: Any], let from = (t["from"] ?? t["role"]) as? String,
                      let value = (t["value"] ?? t["content"]) as? String else {
                    throw BenchError("\(path): entry \(i), turn \(j) is not {\"from\": \"human\"|\"gpt\", \"value\": \"...\"}")
                }
                parsed.append((from.lowercased(), value))
            }
            guard let h = parsed.firstIndex(where: { $0.from == "human" || $0.from == "user" }),
                  !parsed[h].value.isEmpty else { continue }
            let next = h + 1 < parsed.count ? parsed[h + 1] : nil
            let reply = next.flatMap { ["human", "user", "system"].contains($0.from) ? nil : $0.value }
            out.append((parsed[h].value, reply))
        }
        return out
    }

    func shareGPT() async throws -> [BenchPrompt] {
        let path = options.path!
        var conversations = try Self.loadShareGPT(path: path)
        if options.outputLen == nil { conversations.removeAll { $0.reply?.isEmpty ?? true } }
        guard !conversations.isEmpty else {
            throw BenchError("\(path): no conversation has a human turn followed by a reply")
        }
        var rng = SeededRandom(seed: options.seed)
        conversations.shuffle(using: &rng)
        var prompts: [BenchPrompt] = []
        var next = 0
        // Tokenize a batch at a time until there are enough prompts that fit.
        while prompts.count < options.numPrompts && next < conversations.count {
            let batch = Array(conversations[next..<min(conversations.count, next + 32)])
            next += batch.count
            let built = try await concurrentMap(0..<batch.count) { k -> BenchPrompt? in
                let c = batch[k]
                var promptTokens: Int, output: Int, exact = false
                if let tokenizer {
                    promptTokens = try await tokenizer.tokenize(c.prompt).count
                    if let fixed = options.outputLen {
                        output = fixed
                    } else {
                        output = max(0, try await tokenizer.tokenize(c.reply ?? "").count - leadingSpecials.count - trailingSpecials)
                    }
                    exact = true
                } else {
                    promptTokens = Self.wordCount(c.prompt)
                    output = options.outputLen ?? Self.wordCount(c.reply ?? "")
                }
                guard promptTokens > 0, output > 0 else { return nil }
                if let max = options.maxModelLen, promptTokens + output > max { return nil }
                return BenchPrompt(text: c.prompt, promptTokens: promptTokens, outputTokens: output, exactLength: exact)
            }
            prompts += built.compactMap { $0 }
        }
        guard !prompts.isEmpty else {
            throw BenchError("\(path): no conversation fits the server's context (\(options.maxModelLen.map(String.init) ?? "?") tokens)")
        }
        // Fewer usable conversations than prompts asked for: go round again, as the same requests.
        var i = 0
        while prompts.count < options.numPrompts {
            prompts.append(prompts[i])
            i += 1
        }
        return Array(prompts.prefix(options.numPrompts))
    }

    static func wordCount(_ s: String) -> Int {
        s.split(whereSeparator: { $0.isWhitespace }).count
    }

    // MARK: prompt text of a given length

    /// Random words with exactly `tokens` tokens as the server counts them (specials included
    /// when `countSpecials`), by tokenizing and adjusting; an estimate without a tokenizer.
    func text(tokens target: Int, rng: inout SeededRandom, countSpecials: Bool = true) async throws -> (String, Int, Bool) {
        let specials = countSpecials ? leadingSpecials.count + trailingSpecials : 0
        let need = max(1, target - specials)
        var words = Self.words(need + 8, &rng)
        guard let tokenizer else { return (words.prefix(need).joined(separator: " "), target, false) }

        func content(_ text: String) async throws -> [Int] {
            var ids = try await tokenizer.tokenize(text)
            if ids.starts(with: leadingSpecials) { ids.removeFirst(leadingSpecials.count) }
            ids.removeLast(min(trailingSpecials, ids.count))
            return ids
        }
        func count(_ text: String) async throws -> Int {
            let ids = try await tokenizer.tokenize(text)
            return countSpecials ? ids.count : ids.count - leadingSpecials.count - trailingSpecials
        }
        var ids = try await content(words.joined(separator: " "))
        while ids.count < need + 4 {
            words += Self.words(need - ids.count + 8, &rng)
            ids = try await content(words.joined(separator: " "))
        }
        var best: (text: String, count: Int)?
        do {
            // Decode the first n ids, re-tokenize, and correct n by the difference.
            var n = need
            var tried = Set<Int>()
            for _ in 0..<8 {
                guard tried.insert(n).inserted else { break }
                guard let text = try await tokenizer.detokenize(Array(ids.prefix(n))) else { break }
                let c = try await count(text)
                if best == nil || abs(c - target) < abs(best!.count - target) { best = (text, c) }
                if c == target { break }
                n = min(ids.count, max(1, n + target - c))
            }
        }
        if best?.count != target {
            // No detokenizer (or it did not converge): the longest character prefix of the text
            // that is not longer than the target, by bisection.
            let text = words.joined(separator: " ")
            var lo = 1, hi = text.count
            var found: (String, Int)?
            while lo <= hi {
                let mid = (lo + hi) / 2
                let candidate = String(text.prefix(mid))
                let c = try await count(candidate)
                if c <= target {
                    found = (candidate, c)
                    if c == target { break }
                    lo = mid + 1
                } else {
                    hi = mid - 1
                }
            }
            if let found, best == nil || abs(found.1 - target) < abs(best!.count - target) { best = found }
        }
        guard let best else { return (words.prefix(need).joined(separator: " "), target, false) }
        return (best.text, best.count, true)
    }

    static func words(_ n: Int, _ rng: inout SeededRandom) -> [String] {
        (0..<max(0, n)).map { _ in wordList[Int(rng.next() % UInt64(wordList.count))] }
    }

    /// Ordinary English words: prompts that tokenize like text, not like noise.
    static let wordList: [String] = """
        the of and to in is was for on that with as by at from his her an were are which this be or has had not \
        first one their its new after who they have two been other all also more time up into most only over city \
        school some can during world under later many would about season when film state three while there these \
        four she he team could such known made used year between being well where both than through then part \
        house game music since high before number several river group play people work life war government \
        series album name early area long place until united north around south include left same against field \
        second found town system home local end family village made another following began through small light \
        water market power road story light green river garden morning evening paper table window mountain \
        station village island bridge letter number question answer history science nature travel summer winter
        """.split(whereSeparator: { $0.isWhitespace }).map(String.init)
}

/// `transform` over `items`, at most `width` at a time, results in order.
func concurrentMap<T: Sendable>(_ items: Range<Int>, width: Int = 8,
                                _ transform: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
    var results = [T?](repeating: nil, count: items.count)
    try await withThrowingTaskGroup(of: (Int, T).self) { group in
        var next = items.lowerBound
        while next < items.upperBound && next - items.lowerBound < width {
            let i = next
            next += 1
            group.addTask { (i, try await transform(i)) }
        }
        while let (i, value) = try await group.next() {
            results[i - items.lowerBound] = value
            if next < items.upperBound {
                let j = next
                next += 1
                group.addTask { (j, try await transform(j)) }
            }
        }
    }
    return results.map { $0! }
}
