import Compute
import Foundation
import ModelFormats

extension RotaryEmbedding {
    /// Inverse frequencies for `headDim` from the RoPE base and the config's scaling rule,
    /// as transformers' `rope_init_fn`s compute them.
    public init(headDim: Int, theta: Double, scaling: RopeScaling) {
        let half = headDim / 2
        var inv = (0..<half).map { i in 1.0 / pow(theta, Double(2 * i) / Double(headDim)) }
        switch scaling {
        case .none:
            break
        case .linear(let factor):
            inv = inv.map { $0 / factor }
        case .llama3(let factor, let low, let high, let original):
            let lowWavelength = Double(original) / low
            let highWavelength = Double(original) / high
            inv = inv.map { f in
                let wavelength = 2 * Double.pi / f
                if wavelength < highWavelength { return f }
                if wavelength > lowWavelength { return f / factor }
                let smooth = (Double(original) / wavelength - low) / (high - low)
                return (1 - smooth) * f / factor + smooth * f
            }
        }
        self.init(inverseFrequencies: inv.map { Float($0) })
    }
}
