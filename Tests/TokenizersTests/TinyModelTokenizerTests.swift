import Foundation
import Testing
@testable import Tokenizers

/// The tiny random models share one 512-token byte-level BPE; Llama's copy prepends `<s>`
/// through a TemplateProcessing post-processor, Qwen2's does not.
@Suite struct TinyModelTokenizerTests {
    @Test(arguments: ["tiny-llama", "tiny-qwen2", "tiny-mixtral"])
    func promptsEncodeAndGreedyIdsDecode(model: String) throws {
        let tokenizer = try BPETokenizer(directory: Fixtures.directory(model))
        let reference = try Fixtures.json("\(model)/reference.json")
        let prompts = try #require(reference["prompts"] as? [[String: Any]])
        #expect(prompts.count > 0)
        for prompt in prompts {
            let text = try #require(prompt["text"] as? String)
            #expect(tokenizer.encode(text) == Fixtures.ints(prompt["token_ids"]), "encode \(text.debugDescription)")
            let newIds = Fixtures.ints(prompt["greedy_new_ids"])
            let newText = try #require(prompt["greedy_new_text"] as? String)
            #expect(tokenizer.decode(newIds) == newText, "decode greedy ids of \(text.debugDescription)")

            var streaming = IncrementalDetokenizer(tokenizer: tokenizer)
            let streamed = newIds.map { streaming.feed($0) }.joined() + streaming.finish()
            #expect(streamed == newText)
        }
    }

    @Test func llamaAddsBosAndQwen2DoesNot() throws {
        let llama = try BPETokenizer(directory: Fixtures.directory("tiny-llama"))
        let qwen2 = try BPETokenizer(directory: Fixtures.directory("tiny-qwen2"))
        #expect(llama.encode("hello").first == 1)
        #expect(llama.encode("hello", addSpecialTokens: false) == qwen2.encode("hello"))
        #expect(qwen2.encode("hello").first != 1)
        for tokenizer in [llama, qwen2] {
            #expect(tokenizer.bosTokenId == 1)
            #expect(tokenizer.eosTokenId == 2)
            #expect(tokenizer.vocabSize == 512)
            #expect(tokenizer.tokenString(3) == "<|im_start|>")
            #expect(tokenizer.encode("<|im_start|>user\nhi<|im_end|>", addSpecialTokens: false).first == 3)
            #expect(tokenizer.encode("<|im_start|>user\nhi<|im_end|>", addSpecialTokens: false).last == 4)
        }
    }

    @Test func skipSpecialTokensDropsAddedSpecials() throws {
        let llama = try BPETokenizer(directory: Fixtures.directory("tiny-llama"))
        let ids = llama.encode("<|im_start|>user\nhi there<|im_end|>")
        #expect(llama.decode(ids) == "<s><|im_start|>user\nhi there<|im_end|>")
        #expect(llama.decode(ids, skipSpecialTokens: true) == "user\nhi there")
    }
}
