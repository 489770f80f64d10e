/// The collectives a tensor-parallel shard calls inside its forward pass. Distributed provides
/// it over a `Communicator`; a model only sees this.
///
/// Forward passes do not throw: a group whose peer failed records the failure, turns every later
/// call into a no-op (so a dead peer costs one detection, not one per layer) and the runner
/// reports `failure` after the pass.
public protocol TensorParallelGroup: AnyObject, Sendable {
    /// This member's index in the group, 0..<size.
    var rank: Int { get }
    var size: Int { get }
    /// Sums `t` over the group, in place, identically on every member.
    func allReduceSum(_ t: Tensor)
    /// Concatenates every member's [rows, localCols_i] along columns into [rows, totalColumns]
    /// on member 0 (the others get nil). Member i holds the i-th of `size` contiguous slices, the
    /// remainder going to the first members (as `ShardPlan.slice` cuts them).
    func gatherColumns(_ local: Tensor, totalColumns: Int) -> Tensor?
    var failure: (any Error)? { get }
}
