import Engine
import Foundation
import Testing
import Tokenizers

@Suite struct OutputProcessorTests {
    static let tokenizer = try! BPETokenizer(directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/fixtures/tiny-llama"))

    func core(_ id: String, _ tokens: [Int], finish: FinishReason? = nil) -> EngineCoreOutput {
        EngineCoreOutput(requestId: id, newTokenIds: tokens, newTokens: tokens.map { SampledToken(tokenId: $0) },
                         finishReason: finish, numCachedTokens: 0)
    }

    /// Feeds `text`'s tokens one at a time; returns every delta and the last output.
    func stream(_ text: String, params: SamplingParams) -> (deltas: [String], last: CompletionOutput, stopped: [RequestID]) {
        var p = OutputProcessor(tokenizer: Self.tokenizer)
        p.add(id: "a", promptTokenIds: [1], params: params)
        let ids = Self.tokenizer.encode(text, addSpecialTokens: false)
        var deltas: [String] = [], stopped: [RequestID] = []
        var last: CompletionOutput?
        for (i, id) in ids.enumerated() {
            let (outs, stop) = p.process([core("a", [id], finish: i == ids.count - 1 ? .length : nil)])
            stopped += stop
            guard let out = outs.first?.outputs.first else { continue }
            deltas.append(out.deltaText)
            last = out
            if out.finishReason != nil { break }
        }
        return (deltas, last!, stopped)
    }

    @Test func textStreamsIncrementallyAndConcatenates() {
        let text = "the copyright notice and this permission notice"
        let (deltas, last, stopped) = stream(text, params: SamplingParams())
        #expect(deltas.joined() == text && last.text == text)
        #expect(last.finishReason == .length && stopped.isEmpty && deltas.count > 3)
    }

    @Test func stopStringIsCutAndNeverPartlyEmitted() {
        var params = SamplingParams()
        params.stop = ["right no"]
        let (deltas, last, stopped) = stream("the copyright notice and more", params: params)
        #expect(last.text == "the copy")
        #expect(deltas.joined() == "the copy")
        #expect(!deltas.contains { $0.contains("r") })
        #expect(last.finishReason == .stop && last.stopReason == .string("right no"))
        #expect(stopped == ["a"])
    }

    @Test func stopStringIncludedWhenAsked() {
        var params = SamplingParams()
        params.stop = ["notice", "right no"]
        params.includeStopStringInOutput = true
        let (_, last, _) = stream("the copyright notice and more", params: params)
        #expect(last.text == "the copyright no")
        #expect(last.stopReason == .string("right no"))
    }

    @Test func stopTokenIsReportedAsStopReason() {
        var p = OutputProcessor(tokenizer: Self.tokenizer)
        p.add(id: "a", promptTokenIds: [1], params: SamplingParams())
        let (outs, _) = p.process([core("a", [56]), core("a", [2], finish: .stop)])
        let out = outs[0].outputs[0]
        #expect(out.finishReason == .stop && out.stopReason == .tokenId(2) && out.tokenIds == [56, 2])
        #expect(p.numUnfinished == 0)
    }

    @Test func samplesOfOneRequestAreGathered() {
        var p = OutputProcessor(tokenizer: Self.tokenizer)
        var params = SamplingParams()
        params.n = 2
        p.add(id: "x", promptTokenIds: [1, 2, 3], params: params)
        #expect(OutputProcessor.sampleIds("x", n: 2) == ["0_x", "1_x"])
        let (first, _) = p.process([core("0_x", [56], finish: .length)])
        #expect(first.count == 1 && !first[0].finished)
        let (second, _) = p.process([core("1_x", [57], finish: .length)])
        #expect(second[0].finished && second[0].outputs.map(\.tokenIds) == [[56], [57]])
        #expect(second[0].numGeneratedTokens == 2 && second[0].promptTokenIds == [1, 2, 3])
    }
}
