import Foundation

/// The `pre_tokenizer` section: splits normalized text into pieces ("words") that BPE encodes
/// independently, and (for ByteLevel) rewrites each piece into the byte-level alphabet.
/// Each step maps a list of pieces to a new list, mirroring HF's PreTokenizedString, so a
/// `Sequence` of Split + ByteLevel behaves like the Rust implementation.
enum PreTokenizer: Sendable {
    case byteLevel(addPrefixSpace: Bool, splitter: RegexSplitter?)
    case split(RegexSplitter, SplitBehavior)
    case sequence([PreTokenizer])

    static let supported = ["ByteLevel", "Split", "Sequence"]

    /// GPT-2's pre-tokenization regex, used by ByteLevel when `use_regex` is true.
    static let gpt2Pattern =
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    static func parse(_ json: JSONObject?) throws -> PreTokenizer? {
        guard let json else { return nil }
        let type = try json.requiredString("type")
        switch type {
        case "ByteLevel":
            let useRegex = try json.bool("use_regex", default: true)
            let splitter = useRegex ? try RegexSplitter(pattern: gpt2Pattern, path: json.path) : nil
            return .byteLevel(addPrefixSpace: try json.bool("add_prefix_space", default: false), splitter: splitter)
        case "Split":
            if try json.bool("invert", default: false) {
                throw json.invalid("invert", "only invert=false is supported")
            }
            let pattern = try json.requiredObject("pattern")
            let splitter: RegexSplitter
            if let regex = try pattern.string("Regex") {
                splitter = try RegexSplitter(pattern: regex, path: json.path)
            } else if let literal = try pattern.string("String") {
                splitter = try RegexSplitter(pattern: NSRegularExpression.escapedPattern(for: literal), path: json.path)
            } else {
                throw json.invalid("pattern", "expected {\"Regex\": ...} or {\"String\": ...}")
            }
            let name = try json.requiredString("behavior")
            guard let behavior = SplitBehavior(rawValue: name) else {
                throw json.invalid("behavior", "unsupported split behavior '\(name)' (supported: "
                    + SplitBehavior.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            return .split(splitter, behavior)
        case "Sequence":
            return .sequence(try json.objects("pretokenizers").compactMap { try parse($0) })
        default:
            throw TokenizerError.unsupportedComponent(
                path: json.path, component: "pre_tokenizer", type: type, supported: supported)
        }
    }

    /// True when this pre-tokenizer rewrites pieces into the byte-level alphabet.
    var isByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .split: return false
        case .sequence(let parts): return parts.contains { $0.isByteLevel }
        }
    }

    func apply(_ pieces: [String]) -> [String] {
        switch self {
        case .sequence(let parts):
            return parts.reduce(pieces) { $1.apply($0) }
        case .split(let splitter, let behavior):
            return pieces.flatMap { splitter.split($0, behavior: behavior) }
        case .byteLevel(let addPrefixSpace, let splitter):
            var out: [String] = []
            out.reserveCapacity(pieces.count)
            for var piece in pieces {
                // HF prepends to every piece it sees, not just the first one of the input.
                if addPrefixSpace && !piece.hasPrefix(" ") { piece = " " + piece }
                let parts = splitter?.split(piece, behavior: .isolated) ?? [piece]
                for part in parts { out.append(ByteLevelAlphabet.encode(part.utf8)) }
            }
            return out
        }
    }
}

/// What HF's Split does with the regex matches.
enum SplitBehavior: String, CaseIterable, Sendable {
    case isolated = "Isolated"           // matches and gaps are separate pieces
    case removed = "Removed"             // matches are dropped
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
}

/// An ICU regex (NSRegularExpression) that handles the Oniguruma features HF patterns use:
/// `\p{L}`/`\p{N}`, `(?i:...)` and `(?!\S)`. Matching runs over UTF-16, so pieces are cut with
/// NSString ranges; ICU never splits a surrogate pair.
struct RegexSplitter: @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe, hence @unchecked.
    let regex: NSRegularExpression

    init(pattern: String, path: String) throws {
        do {
            regex = try NSRegularExpression(pattern: pattern, options: [])
        } catch {
            throw TokenizerError.invalidRegex(path: path, pattern: pattern, reason: "\(error.localizedDescription)")
        }
    }

    func split(_ text: String, behavior: SplitBehavior) -> [String] {
        if text.isEmpty { return [] }
        let ns = NSString(string: text)
        let full = NSRange(location: 0, length: ns.length)
        // (range, isMatch) segments covering the whole text in order.
        var segments: [(NSRange, Bool)] = []
        var cursor = 0
        regex.enumerateMatches(in: text, options: [], range: full) { match, _, _ in
            guard let r = match?.range, r.length > 0 else { return }
            if r.location > cursor { segments.append((NSRange(location: cursor, length: r.location - cursor), false)) }
            segments.append((r, true))
            cursor = r.location + r.length
        }
        if cursor < ns.length { segments.append((NSRange(location: cursor, length: ns.length - cursor), false)) }

        var ranges: [NSRange] = []
        switch behavior {
        case .isolated:
            ranges = segments.map(\.0)
        case .removed:
            ranges = segments.filter { !$0.1 }.map(\.0)
        case .mergedWithPrevious:
            // A match is glued onto the gap right before it.
            var lastWasGap = false
            for (r, isMatch) in segments {
                if isMatch && lastWasGap {
                    ranges[ranges.count - 1].length += r.length
                    lastWasGap = false
                } else {
                    ranges.append(r)
                    lastWasGap = !isMatch
                }
            }
        case .mergedWithNext:
            // A match starts a new piece that absorbs the following gap.
            var pendingMatch = false
            for (r, isMatch) in segments {
                if !isMatch, pendingMatch, !ranges.isEmpty {
                    ranges[ranges.count - 1].length += r.length
                } else {
                    ranges.append(r)
                }
                pendingMatch = isMatch
            }
        }
        return ranges.map { ns.substring(with: $0) }
    }
}
