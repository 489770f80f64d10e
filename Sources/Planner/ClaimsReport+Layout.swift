/// L1–L3: which (TP, PP, DP, EP) exist, from LayoutEnumerator's own shape rules. Memory is made
/// unbounded where a claim is about shape alone, so a memory rejection cannot hide a shape answer.
extension ClaimsReport {
    static func l1(_ k: ClaimsKit) throws -> Finding {
        let model = try k.model("llama-3.1-70b")
        let m = k.memory(model, k.unbounded(try k.gpu(anyGPU)), .bf16)
        let heads = model.numAttentionHeads
        let valid = (1...heads).filter { k.rejection(m, ParallelLayout(tp: $0), cluster: Cluster(gpusPerNode: $0)) == nil }
        let divisors = (1...heads).filter { heads % $0 == 0 }
        let splitKV = valid.filter { model.numKVHeads % $0 == 0 }
        let widthsDivide = valid.allSatisfy { model.intermediateSize % $0 == 0 && model.vocabSize % $0 == 0 }
        return Finding(ours: "TP ∈ {\(valid.map(String.init).joined(separator: ","))}", verdict: exact(valid == divisors),
                       why: "The enumerator's rules (TP divides the \(heads) heads; TP divides the \(model.numKVHeads) KV heads or is a multiple of them) accept exactly the divisors of \(heads). TP ∈ {\(splitKV.map(String.init).joined(separator: ","))} split the KV heads; larger TP replicates each KV head, so KV bytes per GPU stop shrinking. Intermediate \(model.intermediateSize) and vocab \(model.vocabSize) \(widthsDivide ? "divide by all of them" : "do not divide by all of them").")
    }

    static func l2(_ k: ClaimsKit) throws -> Finding {
        let model = try k.model("llama-3.1-70b")
        let five = Cluster(gpusPerNode: 5)
        let shapes = k.fitting(k.memory(model, k.unbounded(try k.gpu(anyGPU)), .fp16), five).map(\.layout)
        let replicas = shapes.filter { $0.dp == 1 }
        // The claim names no GPU: say, per catalog GPU, whether DP=5 (the model whole on each GPU) runs at FP16.
        let wholeModel = k.catalog.gpus.filter { k.rejection(k.memory(model, $0, .fp16), ParallelLayout(dp: 5), cluster: five) == nil }
        let pp5 = k.catalog.gpus.filter { k.rejection(k.memory(model, $0, .fp16), ParallelLayout(pp: 5), cluster: five) == nil }
        let tp4 = k.rejection(k.memory(model, try k.gpu(anyGPU), .fp16), ParallelLayout(tp: 4), cluster: Cluster(gpusPerNode: 4)) == nil
        return Finding(ours: "5 GPUs: \(shapes.map(\.short).joined(separator: " or ")) by shape", verdict: exact(replicas == [ParallelLayout(pp: 5)]),
                       why: "5 divides neither 64 heads nor 8 KV heads, so TP=1: one replica over 5 GPUs is only PP=5 (16 layers/stage; fits FP16 on \(pp5.count) of \(k.catalog.gpus.count) catalog GPUs). DP=5 needs the whole \(gb(k.memory(model, try k.gpu(anyGPU), .fp16).totalWeightBytes)) per GPU (FP16: only \(wholeModel.map(\.id).joined(separator: ", "))); TP=4 on 4 of the 5 GPUs \(tp4 ? "also runs (H100), one GPU idle" : "does not fit H100").")
    }

    static func l3(_ k: ClaimsKit) throws -> Finding {
        var checked = 0, broken: [String] = []
        for id in ["llama-3.1-70b", "mixtral-8x22b", "deepseek-v3"] {
            let m = k.memory(try k.model(id), try k.gpu(anyGPU), .bf16)
            for n in 1...16 {
                for layout in LayoutEnumerator(memory: m, cluster: Cluster(gpusPerNode: n), maxModelLen: ClaimsKit.minKVTokens).layouts() {
                    checked += 1
                    // World size is TP·PP·DP; EP folds onto the TP·DP ranks of a stage, it never multiplies.
                    if layout.gpus != n || (layout.ep != 1 && layout.ep != layout.tp * layout.dp) { broken.append("\(id) \(n): \(layout)") }
                }
            }
        }
        return Finding(ours: "GPUs = TP×PP×DP; EP = TP×DP reuses ranks", verdict: exact(broken.isEmpty),
                       why: "Every one of \(checked) layouts the enumerator builds for 1–16 GPUs (Llama 70B, Mixtral 8x22B, DeepSeek-V3) has TP·PP·DP = GPUs\(broken.isEmpty ? "" : " except \(broken.prefix(3))"); MoE expert parallel is EP = TP·DP over the same ranks, as in vLLM, so it adds no factor.")
    }
}
