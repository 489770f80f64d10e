import Foundation
import Testing
@testable import Tokenizers

/// The tokenizer is shared across tasks (the shared word cache and the ICU regex must be safe).
@Suite struct ConcurrencyTests {
    @Test func concurrentEncodesAgree() async throws {
        let tokenizer = try Fixtures.qwen.get().withFreshCache()
        let cases = try #require(try Fixtures.json("qwen-tokenizer/reference.json")["cases"] as? [[String: Any]])
        let inputs: [(String, [Int])] = cases.compactMap { c in
            guard let text = c["text"] as? String else { return nil }
            return (text, Fixtures.ints(c["ids"]))
        }
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var bad = 0
                    // Each worker walks the cases in a different order to interleave cache fills.
                    for k in 0..<inputs.count {
                        let (text, ids) = inputs[(k * 7 + worker * 11) % inputs.count]
                        if tokenizer.encode(text, addSpecialTokens: false) != ids { bad += 1 }
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
