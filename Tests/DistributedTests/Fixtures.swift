import Foundation

enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/fixtures")

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// Deterministic prompts of the given lengths over the tiny models' 512-token vocabulary.
func syntheticPrompts(lengths: [Int], seed: UInt64) -> [[Int]] {
    var state = seed
    return lengths.map { n in
        (0..<n).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(5 + (state >> 33) % 500)
        }
    }
}
