import Compute
import Foundation
import Models
import Testing
import Tokenizers

/// The Llama-family forward pass against Hugging Face transformers' golden outputs.
@Suite struct FixtureModelTests {
    static let models = ["tiny-llama", "tiny-qwen2", "tiny-mixtral"]

    @Test(arguments: models)
    func promptTokensMatchReference(name: String) throws {
        let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: Fixtures.path(name)))
        for prompt in try Fixtures.reference(name).prompts {
            #expect(tokenizer.encode(prompt.text) == prompt.token_ids, "\(name): \(prompt.text)")
        }
    }

    @Test(arguments: models)
    func lastLogitsAndTop5MatchReference(name: String) throws {
        let model = try ModelLoader.load(directory: Fixtures.path(name))
        let generator = TextGenerator(model: model)
        for prompt in try Fixtures.reference(name).prompts {
            let logits = generator.promptLogits(prompt.token_ids)
            let last = Array(UnsafeBufferPointer(start: logits.row(logits.rowCount - 1), count: logits.rowLength))
            #expect(maxAbsDifference(last, prompt.last_logits) < 1e-4, "\(name): \(prompt.text)")
            for position in 0..<logits.rowCount {
                #expect(top5(logits.row(position), logits.rowLength) == prompt.top5_ids_per_position[position],
                        "\(name) position \(position) of \(prompt.text)")
            }
        }
    }

    @Test(arguments: models)
    func everyPromptPositionMatchesNpy(name: String) throws {
        let model = try ModelLoader.load(directory: Fixtures.path(name))
        let golden = try Fixtures.npy("\(name)/prompt0_logits.npy")
        let prompt = try Fixtures.reference(name).prompts[0]
        let logits = TextGenerator(model: model).promptLogits(prompt.token_ids)
        #expect(golden.shape == logits.shape)
        #expect(maxAbsDifference(logits.toArray(), golden.values) < 1e-4)
    }

    @Test(arguments: models)
    func greedyContinuationsMatchReference(name: String) throws {
        let model = try ModelLoader.load(directory: Fixtures.path(name))
        let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: Fixtures.path(name)))
        let generator = TextGenerator(model: model)
        for prompt in try Fixtures.reference(name).prompts {
            let ids = generator.generate(prompt: prompt.token_ids, maxTokens: 24, stopTokenIds: Set(model.config.eosTokenIds))
            #expect(ids == prompt.greedy_new_ids, "\(name): \(prompt.text)")
            #expect(tokenizer.decode(ids, skipSpecialTokens: false) == prompt.greedy_new_text)
            let ignoringEOS = generator.generate(prompt: prompt.token_ids, maxTokens: 24)
            #expect(ignoringEOS == prompt.greedy_nocache_ignore_eos_ids, "\(name) ignore-eos: \(prompt.text)")
        }
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Ids of the five largest values, largest first; lower id first on ties (as torch.topk here).
func top5(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> [Int] {
    Array((0..<n).sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }.prefix(5))
}
