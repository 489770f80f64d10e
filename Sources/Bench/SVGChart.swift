import Foundation

/// A two-panel SVG of a concurrency sweep: output throughput on the left, p50 and p99 latency
/// (TPOT, or end-to-end latency when no request made two tokens) on the right, both against
/// max concurrency. Plain SVG text: no browser, no dependencies.
public struct SVGChart: Sendable {
    public struct Point: Sendable {
        public var concurrency: Int
        public var throughput: Double
        public var p50: Double
        public var p99: Double
        public init(concurrency: Int, throughput: Double, p50: Double, p99: Double) {
            self.concurrency = concurrency
            self.throughput = throughput
            self.p50 = p50
            self.p99 = p99
        }
    }

    public var title: String
    public var latencyName: String
    public var points: [Point]

    public init(title: String, latencyName: String, points: [Point]) {
        self.title = title
        self.latencyName = latencyName
        self.points = points.sorted { $0.concurrency < $1.concurrency }
    }

    /// The chart of a sweep report.
    public init(report: BenchReport) {
        let useTPOT = report.runs.contains { $0.metrics.tpot.count > 0 }
        let points = report.runs.map { run in
            let s = useTPOT ? run.metrics.tpot : run.metrics.e2el
            return Point(concurrency: run.maxConcurrency ?? report.config.dataset.numPrompts,
                         throughput: run.metrics.outputThroughput, p50: s.median, p99: s.p99)
        }
        let d = report.config.dataset
        let lengths = d.kind == .sharegpt ? "ShareGPT prompts" : "\(d.inputLen) in / \(d.outputLen ?? DatasetOptions.defaultOutputLen) out tokens"
        self.init(title: "\(report.model): \(lengths), \(d.numPrompts) requests per point",
                  latencyName: useTPOT ? "TPOT" : "E2E latency", points: points)
    }

    static let width = 980.0, height = 460.0
    static let gridColor = "#e0e0e0"
    static let plotTop = 70.0, plotBottom = 380.0
    static let panels: [(left: Double, right: Double)] = [(80, 460), (580, 960)]

    public func render() -> String {
        var svg: [String] = []
        let (w, h) = (Self.width, Self.height)
        svg.append(#"<?xml version="1.0" encoding="UTF-8"?>"#)
        svg.append(#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(f(w))" height="\#(f(h))" viewBox="0 0 \#(f(w)) \#(f(h))" font-family="Helvetica, Arial, sans-serif">"#)
        svg.append(#"<rect x="0" y="0" width="\#(f(w))" height="\#(f(h))" fill="white"/>"#)
        svg.append(text(w / 2, 30, title, size: 17, anchor: "middle", weight: "bold"))
        let xs = points.map { Double($0.concurrency) }
        panel(&svg, Self.panels[0], xs: xs, series: [("output tok/s", "#1f77b4", points.map(\.throughput))],
              yTitle: "Output throughput (tokens/s)", title: "Output throughput", labelValues: true)
        panel(&svg, Self.panels[1], xs: xs,
              series: [("p50 \(latencyName)", "#2ca02c", points.map(\.p50)), ("p99 \(latencyName)", "#d62728", points.map(\.p99))],
              yTitle: "\(latencyName) (ms)", title: "\(latencyName), p50 and p99", labelValues: false)
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    private func panel(_ svg: inout [String], _ box: (left: Double, right: Double), xs: [Double],
                       series: [(name: String, color: String, values: [Double])], yTitle: String, title: String, labelValues: Bool) {
        let (left, right, top, bottom) = (box.left, box.right, Self.plotTop, Self.plotBottom)
        // Headroom above the highest point, for its label.
        let yMax = Self.niceCeiling((series.flatMap(\.values).max() ?? 0) * 1.08)
        let yTicks = Self.ticks(upTo: yMax)
        // x: log2 when the values span a factor of 4 or more, else linear; ticks at the values.
        let positive = xs.allSatisfy { $0 > 0 }
        let lo = xs.min() ?? 0, hi = xs.max() ?? 1
        let useLog = positive && hi / max(lo, 1e-9) >= 4
        func xPos(_ x: Double) -> Double {
            let pad = 24.0
            guard hi > lo else { return (left + right) / 2 }
            let t = useLog ? (log2(x) - log2(lo)) / (log2(hi) - log2(lo)) : (x - lo) / (hi - lo)
            return left + pad + t * (right - left - 2 * pad)
        }
        func yPos(_ y: Double) -> Double { bottom - (yMax > 0 ? y / yMax : 0) * (bottom - top) }

        svg.append(text((left + right) / 2, top - 14, title, size: 14, anchor: "middle", weight: "bold"))
        for t in yTicks {
            let y = yPos(t)
            svg.append(#"<line x1="\#(f(left))" y1="\#(f(y))" x2="\#(f(right))" y2="\#(f(y))" stroke="\#(Self.gridColor)" stroke-width="1"/>"#)
            svg.append(text(left - 8, y + 4, Self.label(t), size: 11, anchor: "end"))
        }
        for x in Set(xs).sorted() {
            let px = xPos(x)
            svg.append(#"<line x1="\#(f(px))" y1="\#(f(bottom))" x2="\#(f(px))" y2="\#(f(bottom + 5))" stroke="black" stroke-width="1"/>"#)
            svg.append(text(px, bottom + 19, Self.label(x), size: 11, anchor: "middle"))
        }
        svg.append(#"<line x1="\#(f(left))" y1="\#(f(bottom))" x2="\#(f(right))" y2="\#(f(bottom))" stroke="black" stroke-width="1.2"/>"#)
        svg.append(#"<line x1="\#(f(left))" y1="\#(f(top))" x2="\#(f(left))" y2="\#(f(bottom))" stroke="black" stroke-width="1.2"/>"#)
        svg.append(text((left + right) / 2, bottom + 42, "Max concurrency (requests in flight)" + (useLog ? ", log scale" : ""),
                        size: 12, anchor: "middle"))
        let yMid = (top + bottom) / 2, yx = left - 58
        svg.append(#"<text x="\#(f(yx))" y="\#(f(yMid))" font-size="12" text-anchor="middle" transform="rotate(-90 \#(f(yx)) \#(f(yMid)))">\#(Self.escape(yTitle))</text>"#)
        for (k, s) in series.enumerated() {
            let coords = zip(xs, s.values).map { "\(f(xPos($0))),\(f(yPos($1)))" }
            if coords.count > 1 {
                svg.append(#"<polyline points="\#(coords.joined(separator: " "))" fill="none" stroke="\#(s.color)" stroke-width="2.5"/>"#)
            }
            for (x, v) in zip(xs, s.values) {
                svg.append(#"<circle cx="\#(f(xPos(x)))" cy="\#(f(yPos(v)))" r="4" fill="\#(s.color)"/>"#)
                if labelValues { svg.append(text(xPos(x), yPos(v) - 9, Self.label(v), size: 11, anchor: "middle")) }
            }
            // Legend, top left inside the plot.
            let ly = top + 14 + Double(k) * 18
            svg.append(#"<line x1="\#(f(left + 12))" y1="\#(f(ly - 4))" x2="\#(f(left + 34))" y2="\#(f(ly - 4))" stroke="\#(s.color)" stroke-width="2.5"/>"#)
            svg.append(text(left + 40, ly, s.name, size: 11, anchor: "start"))
        }
    }

    private func text(_ x: Double, _ y: Double, _ s: String, size: Int, anchor: String, weight: String = "normal") -> String {
        #"<text x="\#(f(x))" y="\#(f(y))" font-size="\#(size)" text-anchor="\#(anchor)" font-weight="\#(weight)">\#(Self.escape(s))</text>"#
    }

    private func f(_ x: Double) -> String { String(format: "%.1f", x) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// 1, 2 or 5 times a power of ten, at least `x` (1 for nothing to show).
    static func niceCeiling(_ x: Double) -> Double {
        guard x > 0 && x.isFinite else { return 1 }
        let step = niceStep(x / 5)
        return (x / step).rounded(.up) * step
    }

    static func niceStep(_ x: Double) -> Double {
        let p = pow(10, (log10(x)).rounded(.down))
        for m in [1.0, 2, 2.5, 5, 10] where m * p >= x { return m * p }
        return 10 * p
    }

    static func ticks(upTo max: Double) -> [Double] {
        let step = niceStep(max / 5)
        return stride(from: 0.0, through: max + step / 1000, by: step).map { $0 }
    }

    static func label(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        if abs(v) >= 100 { return String(format: "%.0f", v) }
        if abs(v) >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.2f", v)
    }
}
