import Engine
import Foundation
@testable import Server
import Testing
import Tokenizers

/// Logprobs JSON cannot hold (NaN logits from a model file with NaN weights, -inf for a token
/// the logits rule out) keep the rest of the body: null and vLLM's -9999.0.
@Suite struct LogprobJSONTests {
    static let tokens = [
        SampledToken(tokenId: 450, logprob: .nan, topLogprobs: [TokenLogprob(tokenId: 450, logprob: .nan)]),
        SampledToken(tokenId: 200, logprob: -.infinity, topLogprobs: [TokenLogprob(tokenId: 100, logprob: -0.5), TokenLogprob(tokenId: 200, logprob: -.infinity)]),
        SampledToken(tokenId: 310, logprob: -1.25),
    ]

    func roundTrip(_ object: Any) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: OpenAIResponses.json(["logprobs": object])) as? [String: Any])["logprobs"] as! [String: Any]
    }

    @Test func completionLogprobsKeepTheBody() throws {
        let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: Fixtures.path("tiny-llama")))
        let body = try roundTrip(OpenAIResponses.completionLogprobs(Self.tokens, tokenizer: tokenizer, textOffset: 0))
        let values = try #require(body["token_logprobs"] as? [Any])
        #expect(values[0] is NSNull && (values[1] as? Double) == -9999 && (values[2] as? Double) == -1.25)
        let tops = try #require(body["top_logprobs"] as? [[String: Any]])
        #expect(tops[0].values.first is NSNull)
        #expect(tops[1][tokenizer.decode([200])] as? Double == -9999 && tops[1][tokenizer.decode([100])] as? Double == -0.5)
    }

    @Test func chatLogprobsKeepTheBody() throws {
        let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: Fixtures.path("tiny-llama")))
        let content = try #require(try roundTrip(OpenAIResponses.chatLogprobs(Self.tokens, tokenizer: tokenizer))["content"] as? [[String: Any]])
        #expect(content.count == 3)
        #expect(content[0]["logprob"] is NSNull && content[1]["logprob"] as? Double == -9999 && content[2]["logprob"] as? Double == -1.25)
        let top = try #require(content[1]["top_logprobs"] as? [[String: Any]])
        #expect(top.map { $0["logprob"] as? Double } == [-0.5, -9999])
    }

    @Test func finiteValuesAreUnchanged() {
        #expect(OpenAIResponses.logprob(nil) is NSNull && OpenAIResponses.logprob(.infinity) is NSNull)
        #expect(OpenAIResponses.logprob(-20000) as? Double == -9999 && OpenAIResponses.logprob(-0.0) as? Double == 0)
        #expect(OpenAIResponses.logprob(-3.5) as? Double == -3.5)
    }
}
