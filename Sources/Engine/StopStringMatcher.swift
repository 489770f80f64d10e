/// Finds stop strings in generated text without ever emitting part of one: text that could
/// still grow into a stop string is held back until the next token decides it. Works on
/// Unicode scalars, which (unlike Characters) never merge across chunk boundaries.
struct StopStringMatcher: Sendable {
    let stops: [[Unicode.Scalar]]
    let includeInOutput: Bool
    /// Scalars kept back while unfinished: a stop string may start in them.
    let holdBack: Int

    init(stops: [String], includeInOutput: Bool) {
        self.stops = stops.map { Array($0.unicodeScalars) }
        self.includeInOutput = includeInOutput
        holdBack = includeInOutput ? 0 : max(0, (self.stops.map(\.count).max() ?? 0) - 1)
    }

    /// The earliest stop string ending in the scalars added after `previousCount`: how many
    /// scalars to keep (cut before it, or after it when included) and which stop matched.
    func match(in text: [Unicode.Scalar], previousCount: Int) -> (keep: Int, stop: String)? {
        var best: (start: Int, end: Int, stop: [Unicode.Scalar])?
        for stop in stops where stop.count <= text.count {
            var start = max(0, previousCount - stop.count + 1)
            while start + stop.count <= text.count {
                if text[start..<(start + stop.count)].elementsEqual(stop) {
                    if best.map({ start < $0.start }) ?? true { best = (start, start + stop.count, stop) }
                    break
                }
                start += 1
            }
        }
        guard let best else { return nil }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: best.stop)
        return (includeInOutput ? best.end : best.start, String(s))
    }
}
