import Foundation
import Testing
@testable import Tokenizers

/// The two merge strategies (quadratic loop for short words, heap for long ones) must agree.
@Suite struct MergeStrategyTests {
    @Test func heapAndQuadraticMergesAgreeOnRealVocabulary() throws {
        let tokenizer = try Fixtures.qwen.get()
        let model = tokenizer.core.model
        let cases = try #require(try Fixtures.json("qwen-tokenizer/reference.json")["cases"] as? [[String: Any]])
        var checked = 0
        for c in cases {
            guard let text = c["text"] as? String, !text.isEmpty else { continue }
            // Treat the whole text as one word: long, mixed, full of repeated pairs.
            let word = ByteLevelAlphabet.encode(text.utf8)
            let symbols = word.unicodeScalars.map { model.scalarIds[$0.value]! }
            #expect(model.mergeSmall(symbols) == model.mergeWithHeap(symbols), "\(c["name"] ?? "?")")
            checked += 1
        }
        #expect(checked == 77)
    }
}
