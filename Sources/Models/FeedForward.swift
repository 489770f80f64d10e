import Compute
import ModelFormats

/// The feed-forward half of a decoder block: a dense SwiGLU MLP or a mixture of experts. Either
/// way a tensor-parallel rank returns its partial sum, which the block all-reduces.
protocol FeedForward: Sendable {
    func callAsFunction(_ x: Tensor) -> Tensor
    var weightBytes: Int { get }
}

/// down(silu(gate(x)) · up(x)), gate and up stacked into one matmul; column-parallel gate/up
/// and row-parallel down under tensor parallelism.
struct DenseMLP: FeedForward {
    let gateUp: any LinearLayer
    let down: any LinearLayer

    /// `columns`: this rank's MLP columns (nil: all).
    init(gate: String, up: String, down downName: String, hidden: Int, intermediate: Int, columns: Range<Int>?,
         weights w: any WeightStore) throws {
        gateUp = try w.stackedLinear([
            StackedPart(name: gate, outFeatures: intermediate, rows: columns),
            StackedPart(name: up, outFeatures: intermediate, rows: columns),
        ], inFeatures: hidden)
        down = try w.linear(downName, outFeatures: hidden, inFeatures: intermediate, rows: nil, cols: columns)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { down(GatedActivation.silu(gateUp(x))) }

    var weightBytes: Int { gateUp.weightBytes + down.weightBytes }
}
