import Compute
import Foundation
import ModelFormats

/// Mixtral's sparse block in place of the dense MLP. The router scores every expert per token;
/// the token goes to its top-k experts, weighted by their softmax probabilities renormalized
/// to sum to 1 (Hugging Face's MixtralSparseMoeBlock, in float32), and its output is the
/// weighted sum of those experts' SwiGLU outputs, added in expert order. Tokens are grouped
/// by expert, so each expert runs one matmul over its tokens.
///
/// Tensor parallel: every expert's columns are this rank's slice, as the dense MLP's. Expert
/// parallel (`--enable-expert-parallel`): the ranks split the experts and hold theirs whole.
/// Either way the router stays whole and unquantized on every rank (as vLLM keeps it), so
/// ranks route alike, and the block's one all-reduce sums their partial outputs (under expert
/// parallelism it stands in for the dispatch and combine all-to-alls of a larger EP group).
struct MixtureOfExperts: FeedForward {
    let router: any LinearLayer
    /// This rank's experts, `local` of them.
    let experts: [DenseMLP]
    let local: Range<Int>
    let numExperts: Int
    let topK: Int

    init(router routerName: String, expert: (Int, String) -> String, config c: ModelConfig, plan: ShardPlan,
         weights w: any WeightStore) throws {
        guard c.numExperts > 0, (1...c.numExperts).contains(c.numExpertsPerToken) else {
            throw ModelFormatError.badConfig(path: w.location, reason: "experts per token \(c.numExpertsPerToken) must be between 1 and the \(c.numExperts) experts")
        }
        router = try w.head(routerName, outFeatures: c.numExperts, inFeatures: c.hiddenSize, rows: nil)
        local = plan.experts(c.numExperts)
        let columns = plan.expertColumns(c.intermediateSize)
        experts = try local.map { e in
            try DenseMLP(gate: expert(e, "gate"), up: expert(e, "up"), down: expert(e, "down"), hidden: c.hiddenSize,
                         intermediate: c.intermediateSize, columns: columns, weights: w)
        }
        numExperts = c.numExperts
        topK = c.numExpertsPerToken
    }

    /// Per expert (all of them), the (token, weight) pairs routed to it.
    func route(_ x: Tensor) -> [[(token: Int, weight: Float)]] {
        let logits = router(x), count = numExperts
        var routed = [[(token: Int, weight: Float)]](repeating: [], count: count)
        var probs = [Float](repeating: 0, count: count)
        for t in 0..<x.rowCount {
            let row = logits.row(t)
            var largest = -Float.infinity
            for e in 0..<count { largest = max(largest, row[e]) }
            var sum: Float = 0
            for e in 0..<count { probs[e] = exp(row[e] - largest); sum += probs[e] }
            for e in 0..<count { probs[e] /= sum }
            // Largest first; an exact tie goes to the lower expert.
            let chosen = (0..<count).sorted { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }.prefix(topK)
            let total = chosen.reduce(Float(0)) { $0 + probs[$1] }
            for e in chosen { routed[e].append((t, probs[e] / total)) }
        }
        return routed
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let out = Tensor(zeros: [x.rowCount, x.rowLength])
        let width = x.rowLength
        for (e, tokens) in route(x).enumerated() where local.contains(e) && !tokens.isEmpty {
            let y = experts[e - local.lowerBound](x.gatherRows(tokens.map(\.token)))
            for (i, (t, weight)) in tokens.enumerated() {
                let dst = out.row(t), src = y.row(i)
                for j in 0..<width { dst[j] += weight * src[j] }
            }
        }
        return out
    }

    var weightBytes: Int { router.weightBytes + experts.reduce(0) { $0 + $1.weightBytes } }
}
