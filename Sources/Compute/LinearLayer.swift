/// A projection y = x · Wᵀ (+ b), whatever the weights are stored as: f32 through OpenBLAS or
/// quantized blocks through the C kernels. Models hold `any LinearLayer`.
public protocol LinearLayer: Sendable {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    /// [rows, inFeatures] → [rows, outFeatures].
    func callAsFunction(_ x: Tensor, pool: ThreadPool) -> Tensor
    /// Bytes of weights held.
    var weightBytes: Int { get }
    /// As `callAsFunction`, and each output row's argmax (the first largest value, NaNs skipped)
    /// where the layer finds it while the row is still in cache; nil where it does not.
    func withRowArgmax(_ x: Tensor, pool: ThreadPool) -> (output: Tensor, argmax: [Int]?)
}

extension LinearLayer {
    public func callAsFunction(_ x: Tensor) -> Tensor { callAsFunction(x, pool: .shared) }

    public func withRowArgmax(_ x: Tensor, pool: ThreadPool) -> (output: Tensor, argmax: [Int]?) {
        (callAsFunction(x, pool: pool), nil)
    }
}

extension Linear: LinearLayer {
    public var weightBytes: Int { 4 * (weight.count + (bias?.count ?? 0)) }
}
