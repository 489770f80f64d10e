import Foundation

/// `../shared/fixtures` beside the repository root (the layout CI has too).
enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/fixtures")

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    struct Reference: Decodable {
        let prompts: [Prompt]
    }

    struct Prompt: Decodable {
        let text: String
        let token_ids: [Int]
        let last_logits: [Float]
        let top5_ids_per_position: [[Int]]
        let greedy_new_ids: [Int]
        let greedy_new_text: String
        let greedy_stopped_on_eos: Bool
        let greedy_nocache_ignore_eos_ids: [Int]
    }

    static func reference(_ model: String) throws -> Reference {
        let data = try Data(contentsOf: root.appendingPathComponent("\(model)/reference.json"))
        return try JSONDecoder().decode(Reference.self, from: data)
    }

    /// A float32 `.npy` file (little-endian, C order): its shape and values.
    static func npy(_ relative: String) throws -> (shape: [Int], values: [Float]) {
        let data = try Data(contentsOf: root.appendingPathComponent(relative))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        precondition(header.contains("'<f4'") && header.contains("'fortran_order': False"), "unexpected npy header \(header)")
        let shapeText = header.split(separator: "(")[1].split(separator: ")")[0]
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let body = data[(10 + headerLength)...]
        let values = body.withUnsafeBytes { raw in Array(raw.bindMemory(to: Float.self)) }
        return (shape, values)
    }
}
