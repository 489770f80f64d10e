import Compute
import Foundation
import ModelFormats
import Models
import Testing

/// `--quantization int8|fp8` and `--dtype float16|bfloat16` on tiny-llama against the float32
/// reference (transformers' greedy ids and last-position logits).
@Suite struct WeightFormatTests {
    static func model(_ format: WeightFormat) throws -> LlamaModel {
        let dir = Fixtures.path("tiny-llama")
        return try LlamaModel(config: try ModelConfig.load(directory: dir), checkpoint: try SafeTensorsCheckpoint(directory: dir), format: format)
    }

    /// Max |logit − reference| over the last position, per format. The references' logits span
    /// about ±3; measured worst cases over the four prompts: float16 0.0025, int8 0.088 (per-channel
    /// weights, f32 activations), fp8 0.26 (E4M3 keeps 3 mantissa bits: ~2% per weight).
    static let tolerance: [WeightFormat: Float] = [.float16: 0.005, .bfloat16: 0.05, .int8: 0.15, .fp8: 0.4]

    /// Prompts whose first 8 greedy ids fp8 cannot keep: the reference's top-1/top-2 margin at
    /// decode step 2 (prompt 0, 0.085) and step 5 (prompt 3, 0.078) is below fp8's logit error.
    static let fp8NearTies: Set<Int> = [0, 3]

    @Test(arguments: [WeightFormat.int8, .fp8, .float16, .bfloat16])
    func greedyIdsAndLastLogitsStayCloseToFloat32(format: WeightFormat) throws {
        let model = try Self.model(format)
        let reference = try Fixtures.reference("tiny-llama")
        let generator = TextGenerator(model: model)
        for (index, prompt) in reference.prompts.enumerated() {
            let logits = generator.promptLogits(prompt.token_ids)
            let last = logits.row(logits.rowCount - 1)
            let error = (0..<prompt.last_logits.count).map { abs(last[$0] - prompt.last_logits[$0]) }.max()!
            #expect(error <= Self.tolerance[format]!, "\(format) \(prompt.text.prefix(20)): max |Δlogit| \(error)")
            let ids = generator.generate(prompt: prompt.token_ids, maxTokens: 8, stopTokenIds: [])
            if format == .fp8 && Self.fp8NearTies.contains(index) {
                #expect(ids.first == prompt.greedy_nocache_ignore_eos_ids.first, "fp8 \(prompt.text.prefix(20)): first token")
                continue
            }
            #expect(Array(ids.prefix(8)) == Array(prompt.greedy_nocache_ignore_eos_ids.prefix(8)), "\(format) \(prompt.text.prefix(20))")
        }
    }

    @Test func quantizedWeightsTakeLessMemory() throws {
        let f32 = try Self.model(.float32).weightBytes
        #expect(try Self.model(.float16).weightBytes < f32)
        #expect(try Self.model(.int8).weightBytes < f32)
        #expect(try Self.model(.fp8).weightBytes < f32)
    }

    @Test func e4m3RoundTripsItsOwnValuesAndSaturates() {
        for code in 0..<256 where code & 0x7F != 0x7F {
            let v = E4M3.decode(UInt8(code))
            #expect(E4M3.encode(v) == UInt8(code) || (v == 0 && code == 0x80), "code \(code) value \(v)")
        }
        #expect(E4M3.decode(E4M3.encode(1000)) == 448 && E4M3.decode(E4M3.encode(-1000)) == -448)
        #expect(E4M3.decode(0x38) == 1 && E4M3.decode(0x01) == 0.001953125)
    }
}
