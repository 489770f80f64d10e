@testable import Distributed
import Models
import Testing

@Suite struct ActivationPeakTests {
    /// The two-point extrapolation stays close to measuring a full 2048-token batch (readings are
    /// per thread, so tests running beside this one do not disturb them).
    @Test func extrapolationTracksTheFullMeasurement() throws {
        let model = try ModelLoader.load(directory: Fixtures.path("tiny-qwen2"))
        let full = ModelRunner.measureActivationPeak(model: model, tokens: 2048, maxModelLen: 512, blockSize: 16)
        let estimate = DeviceShard.activationPeak(model: model, tokens: 2048, maxModelLen: 512, blockSize: 16)
        #expect(full > 0)
        #expect(Double(estimate) >= 0.8 * Double(full) && Double(estimate) <= 1.3 * Double(full), "full \(full), estimate \(estimate)")
    }
}
