import COpenBLAS

/// y = x · Wᵀ + b with W stored [outFeatures, inFeatures], as HF checkpoints store it.
/// The output columns are split across the pool, each slice one single-threaded OpenBLAS
/// sgemm, so OpenBLAS never runs a thread pool of its own beside ours.
public struct Linear: Sendable {
    public let weight: Tensor
    public let bias: Tensor?

    public init(weight: Tensor, bias: Tensor? = nil) {
        precondition(weight.rank == 2, "Linear: weight must be 2-D, got \(weight.shape)")
        if let bias { precondition(bias.count == weight.shape[0], "Linear: bias \(bias.shape) for weight \(weight.shape)") }
        self.weight = weight
        self.bias = bias
        BLAS.configureOnce
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func callAsFunction(_ x: Tensor, pool: ThreadPool = .shared) -> Tensor {
        let m = x.rowCount
        let out = Tensor(zeros: [m, outFeatures])
        forward(x, into: out, pool: pool)
        return out
    }

    public func forward(_ x: Tensor, into out: Tensor, pool: ThreadPool = .shared) {
        precondition(x.rowLength == inFeatures, "Linear: input rows of \(x.rowLength), expected \(inFeatures)")
        let m = x.rowCount, n = outFeatures, k = inFeatures
        precondition(out.count == m * n, "Linear: output \(out.shape) for \(m)×\(n)")
        guard m > 0 else { return }
        let xp = x.data, wp = weight.data, op = out.data, bp = bias?.data
        // Slices of at least 64 columns: below that, dispatch costs more than it saves.
        pool.parallelFor(n, minChunk: 64) { cols in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                        Int32(m), Int32(cols.count), Int32(k),
                        1, xp, Int32(k), wp + cols.lowerBound * k, Int32(k),
                        0, op + cols.lowerBound, Int32(n))
            if let bp {
                for r in 0..<m {
                    let row = op + r * n
                    for c in cols { row[c] += bp[c] }
                }
            }
        }
    }
}

enum BLAS {
    /// OpenBLAS threads would spin against our pool; one thread per call, our pool splits the work.
    static let configureOnce: Void = { openblas_set_num_threads(1) }()
}
