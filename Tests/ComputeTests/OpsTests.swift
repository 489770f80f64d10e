import Compute
import Foundation
import Testing

/// Each op against a plain-Swift reference written from its definition.
@Suite struct OpsTests {
    @Test(arguments: [(1, 64, 16), (3, 130, 40), (7, 5, 9)])
    func linearMatchesNaiveMatmul(m: Int, n: Int, k: Int) {
        var rng = SeededRandom(seed: UInt64(m * 1000 + n))
        let x = rng.tensor([m, k]), w = rng.tensor([n, k]), b = rng.tensor([n])
        let y = Linear(weight: w, bias: b)(x)
        #expect(y.shape == [m, n])
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = b.data[j]
                for t in 0..<k { s += x[i, t] * w[j, t] }
                #expect(abs(y[i, j] - s) < 1e-4)
            }
        }
    }

    @Test(arguments: [false, true])
    func rmsNormMatchesDefinition(unitOffset: Bool) {
        var rng = SeededRandom(seed: 3)
        let x = rng.tensor([3, 37]), w = rng.tensor([37])
        let y = RMSNorm(weight: w, eps: 1e-5, unitOffset: unitOffset)(x)
        for r in 0..<3 {
            let ms = (0..<37).map { x[r, $0] * x[r, $0] }.reduce(0, +) / 37
            let inv = 1 / (ms + 1e-5).squareRoot()
            for c in 0..<37 {
                let expected = x[r, c] * inv * (unitOffset ? 1 + w.data[c] : w.data[c])
                #expect(abs(y[r, c] - expected) < 1e-5)
            }
        }
    }

    @Test func ropeRotatesHalvesByPositionAngle() {
        var rng = SeededRandom(seed: 4)
        let headDim = 8, heads = 2
        let x = rng.tensor([2, heads * headDim])
        let original = x.copy()
        let rope = RotaryEmbedding(inverseFrequencies: [1, 0.1, 0.01, 0.001])
        rope.apply(x, headDim: headDim, positions: [0, 5])
        #expect(maxDiff(x.rows(0..<1).toArray(), original.rows(0..<1).toArray()) == 0)
        for h in 0..<heads {
            for i in 0..<4 {
                let angle = 5 * rope.inverseFrequencies[i]
                let a = original[1, h * headDim + i], b = original[1, h * headDim + i + 4]
                #expect(abs(x[1, h * headDim + i] - (a * cos(angle) - b * sin(angle))) < 1e-5)
                #expect(abs(x[1, h * headDim + i + 4] - (b * cos(angle) + a * sin(angle))) < 1e-5)
            }
        }
    }

    @Test func sharedStepAnglesRotateEachRowByItsOwnPosition() {
        var rng = SeededRandom(seed: 5)
        let headDim = 8, positions = [3, 0, 41]
        let rope = RotaryEmbedding(inverseFrequencies: [1, 0.1, 0.01, 0.001])
        let x = rng.tensor([3, 2 * headDim])
        let rowByRow = x.copy()
        rope.angles(positions).apply(x, headDim: headDim)
        for (r, p) in positions.enumerated() { rope.apply(rowByRow.rows(r..<(r + 1)), headDim: headDim, positions: [p]) }
        #expect(x.toArray() == rowByRow.toArray())
    }

    @Test func gatedActivations() {
        let gateUp = Tensor(shape: [1, 4], values: [1, -2, 3, 0.5])
        let silu = GatedActivation.silu(gateUp)
        #expect(abs(silu[0, 0] - 1 / (1 + exp(-1)) * 3) < 1e-6)
        #expect(abs(silu[0, 1] - (-2) / (1 + exp(2)) * 0.5) < 1e-6)
        let gelu = GatedActivation.geluTanh(gateUp)
        let g: Float = 1
        let expected = 0.5 * g * (1 + tanh(0.7978845608 * (g + 0.044715 * g * g * g))) * 3
        #expect(abs(gelu[0, 0] - expected) < 1e-6)
        let separate = GatedActivation.geluTanh(gate: Tensor(shape: [1, 2], values: [1, -2]), up: Tensor(shape: [1, 2], values: [3, 0.5]))
        #expect(separate.toArray() == gelu.toArray())
    }

    @Test func softmaxIsStableAndNormalized() {
        let x = Tensor(shape: [2, 3], values: [1000, 1001, 1002, -5, 0, 5])
        softmaxRows(x)
        for r in 0..<2 { #expect(abs((0..<3).map { x[r, $0] }.reduce(0, +) - 1) < 1e-6) }
        #expect(x[0, 2] > x[0, 1] && x[0, 1] > x[0, 0] && x[0, 0].isFinite)
    }
}

/// Deterministic values in [-1, 1) for test inputs.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 23) - 1
    }
    mutating func tensor(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in next() })
    }
}

func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }
