/// M1–M13: weight sizes, KV sizes and GPU counts, from MemoryModel and LayoutEnumerator.
/// Weights are params × bytes (decimal GB, as guides write them); card memory is the label in
/// GiB (catalog README), and usable memory is 0.9 of it.
extension ClaimsReport {
    /// Weights do not depend on the GPU; any catalog GPU serves for `totalWeightBytes`.
    static let anyGPU = "h100-sxm"
    static let card96 = "rtx-pro-6000-blackwell"
    static let card48 = "rtx-6000-ada"

    static func weights(_ k: ClaimsKit, _ modelId: String, _ q: Quantization) throws -> Double {
        k.memory(try k.model(modelId), try k.gpu(anyGPU), q).totalWeightBytes
    }

    /// "2 (TP=2, 65.7 GiB weights/GPU, KV 33k tokens)" or "none up to 32".
    static func describe(_ found: (count: Int, layout: ParallelLayout, plan: MemoryPlan)?) -> String {
        guard let f = found else { return "none up to 32" }
        return "\(f.count) (\(f.layout.short), \(gib(f.plan.weightBytesPerGPU)) weights/GPU, KV \(f.plan.kvCapacityTokensPerReplica / 1000)k tokens)"
    }

    static func m1(_ k: ClaimsKit) throws -> Finding {
        let m = k.memory(try k.model("llama-3-70b"), try k.gpu(anyGPU), .fp16)
        let w = m.totalWeightBytes
        return Finding(ours: "\(gb(w)) (\(gib(w)))", verdict: point(w / 1e9, 140),
                       why: "\(billions(m.params.total)) parameters computed from the config shapes × 2 bytes = \(gb(w)), \(deviation(w / 1e9, from: 140)) from 140 GB (in binary units \(gib(w))).")
    }

    static func m2(_ k: ClaimsKit) throws -> Finding {
        let model = try k.model("llama-3-70b")
        let n96 = k.minimumGPUs(k.memory(model, try k.gpu(card96), .fp16))
        let n48 = k.minimumGPUs(k.memory(model, try k.gpu(card48), .fp16))
        let v = all([exact(n96?.count == 2), exact(n48?.count == 4)])
        // Why one card fewer fails on 48 GiB, in the enumerator's words.
        let fewer = (n48?.count ?? 1) - 1
        let m48 = k.memory(model, try k.gpu(card48), .fp16)
        let reasons = fewer < 1 ? [] : LayoutEnumerator(memory: m48, cluster: Cluster(gpusPerNode: fewer), maxModelLen: ClaimsKit.minKVTokens).layouts()
            .filter { $0.dp == 1 }.compactMap { l in k.rejection(m48, l, cluster: Cluster(gpusPerNode: fewer)).map { "\(l.short): \($0)" } }
        return Finding(ours: "96 GiB: \(n96?.count ?? 0); 48 GiB: \(n48?.count ?? 0)", verdict: v,
                       why: "Smallest one-replica layout whose weights + activations + one 8192-token KV fit 0.9 of each card: 96 GiB (\(card96)) \(describe(n96)); 48 GiB (\(card48)) \(describe(n48)); on \(fewer): " + reasons.joined(separator: "; ") + ".")
    }

    static func m3(_ k: ClaimsKit) throws -> Finding {
        let model = try k.model("llama-3-70b"), gpu = try k.gpu(card96)
        let m = k.memory(model, gpu, .fp16)
        let rejected = k.rejection(m, ParallelLayout(), cluster: Cluster(gpusPerNode: 1))
        let fp8 = k.memory(model, gpu, .fp8)
        let fp8Fits = k.rejection(fp8, ParallelLayout(), cluster: Cluster(gpusPerNode: 1)) == nil
        let left = m.usableBytes - m.totalWeightBytes
        return Finding(ours: "\(gb(m.totalWeightBytes)) weights vs \(gb(m.usableBytes)) usable", verdict: exact(rejected == nil),
                       why: "0.9 × 96 GiB = \(gb(m.usableBytes)) (\(gb(Double(gpu.memoryBytes))) even at 1.0) cannot hold \(gb(m.totalWeightBytes)) of FP16 weights: \(gb(left)) left for KV. "
                           + (fp8Fits ? "At FP8 (\(gb(fp8.totalWeightBytes))) it does fit one card, likely what the guide meant." : "It does not fit at FP8 either."))
    }

    static func m4(_ k: ClaimsKit) throws -> Finding {
        let model = try k.model("mixtral-8x22b")
        let w = try weights(k, model.id, .fp16)
        let n96 = k.minimumGPUs(k.memory(model, try k.gpu(card96), .fp16))
        let m48 = k.memory(model, try k.gpu(card48), .fp16)
        let n48 = k.minimumGPUs(m48), n48TP = k.minimumGPUs(m48, pipeline: false)
        let v = all([point(w / 1e9, 280), exact(n96?.count == 4), exact(n48?.count == 8)])
        return Finding(ours: "\(gb(w)); 96 GiB: \(n96?.count ?? 0); 48 GiB: \(n48?.count ?? 0) (\(n48TP?.count ?? 0) TP-only)", verdict: v,
                       why: "\(billions(model.computedParams?.total ?? 0)) params × 2 = \(gb(w)) (\(deviation(w / 1e9, from: 280))). Min GPUs with one 8K KV: 96 GiB \(describe(n96)); 48 GiB \(describe(n48)), TP-only \(describe(n48TP)). "
                           + (n48?.count ?? 0 < 8 ? "8×48 GB is the minimum only for power-of-two TP; PP over 56 layers needs fewer cards." : ""))
    }

    static func m5(_ k: ClaimsKit) throws -> Finding {
        let w = try weights(k, "llama-3.1-405b", .fp16)
        return Finding(ours: "\(gb(w)) (\(gib(w)))", verdict: point(w / 1e9, 810),
                       why: "405.85B parameters from the shapes (126 layers, hidden 16384, untied 128256-vocab head) × 2 bytes = \(gb(w)), \(deviation(w / 1e9, from: 810)) from 810 GB.")
    }

    static func m6(_ k: ClaimsKit) throws -> Finding {
        let model = try k.model("llama-3.1-405b"), gpu = try k.gpu(card96)
        let layout = ParallelLayout(tp: 8)
        let m = k.memory(model, gpu, .fp8), m8 = k.memory(model, gpu, .fp8, kvBytes: 1)
        let rejected = k.rejection(m, layout, cluster: Cluster(gpusPerNode: 8))
        let plan = m.plan(layout, maxModelLen: ClaimsKit.minKVTokens)
        let tokens = plan.kvCapacityTokensPerReplica
        let tokensFP8 = m8.plan(layout, maxModelLen: ClaimsKit.minKVTokens).kvCapacityTokensPerReplica
        // "Generous" made concrete: M9's load, 32 concurrent 8K requests.
        let generous = 32 * 8192
        return Finding(ours: "fits TP=8; KV \(tokens / 1000)k tokens (\(tokens / 8192)×8K)",
                       verdict: all([exact(rejected == nil), exact(tokens >= generous)]),
                       why: "FP8 weights (16-bit embeddings/head) \(gb(m.totalWeightBytes)) → \(gib(plan.weightBytesPerGPU)) per GPU at TP=8 (one KV head each) of \(gib(m.usableBytes)) usable; KV \(tokens) tokens at FP16 KV (\(tokensFP8) at FP8 KV), \(tokens / 131072) full 128K contexts. 'Generous' taken as ≥ 32 × 8K = \(generous) tokens.")
    }

    static func m7(_ k: ClaimsKit) throws -> Finding {
        let gpu = try k.gpu(card96)
        let usable = 4 * Double(gpu.memoryBytes) * ClaimsKit.utilization
        // Upper bound: every usable byte holds a 2-byte weight, nothing for KV or activations.
        let bound = usable / 2, boundFull = 4 * Double(gpu.memoryBytes) / 2
        let qwen = try k.model("qwen3-235b-a22b"), mixtral = try k.model("mixtral-8x22b")
        let qwenFits = !k.fitting(k.memory(qwen, gpu, .fp16), Cluster(gpusPerNode: 4)).isEmpty
        let mixtralFits = !k.fitting(k.memory(mixtral, gpu, .fp16), Cluster(gpusPerNode: 4)).isEmpty
        return Finding(ours: "≤ \(billions(bound)) params at FP16", verdict: all([exact(bound >= 200e9), exact(qwenFits)]),
                       why: "4 × 0.9 × 96 GiB = \(gb(usable)) holds at most \(billions(bound)) FP16 parameters with zero KV (\(billions(boundFull)) at utilization 1.0); Qwen3-235B (\(gb(try weights(k, qwen.id, .fp16)))) \(qwenFits ? "fits" : "does not fit"), Mixtral 8x22B \(mixtralFits ? "fits" : "does not"). 200B+ at FP16 needs ≥ 400 GB; at FP8 the same box holds up to \(billions(usable)).")
    }

    static func m8(_ k: ClaimsKit) throws -> Finding {
        let m = k.memory(try k.model("llama-3.1-405b"), try k.gpu(card96), .int8)
        let fits = k.fitting(m, Cluster(gpusPerNode: 6)).filter { $0.layout.dp == 1 }
        let best = fits.max { $0.plan.kvCapacityTokensPerReplica < $1.plan.kvCapacityTokensPerReplica }
        let tokens = best?.plan.kvCapacityTokensPerReplica ?? 0
        let tp6 = k.rejection(m, ParallelLayout(tp: 6), cluster: Cluster(gpusPerNode: 6)) ?? "fits"
        // "Headroom" made concrete: at least one full 128K-context request.
        let headroom = 131072
        return Finding(ours: "fits as \(fits.map(\.layout.short).joined(separator: ", ")); KV \(tokens / 1000)k tokens",
                       verdict: all([exact(!fits.isEmpty), exact(tokens >= headroom)]),
                       why: "INT8 weights \(gb(m.totalWeightBytes)) vs 6 × \(gib(m.usableBytes)) usable; TP=6 is out (\(tp6)). Best layout \(best?.layout.short ?? "none") leaves \(tokens) KV tokens at FP16 (\(tokens / 8192) × 8K, \(format(Double(tokens) / 131072, 1)) × 128K); 'headroom' taken as ≥ one 128K context.")
    }

    static func m9(_ k: ClaimsKit) throws -> Finding {
        let perToken = Double(try k.model("llama-3.1-70b").kvBytesPerToken(bytesPerElement: 2))
        let request = perToken * 8192, batch = 32 * request
        return Finding(ours: "\(gb(request, 2))/request, \(gb(batch)) for 32", verdict: all([point(request / 1e9, 2.5), point(batch / 1e9, 80)]),
                       why: "2 (K,V) × 80 layers × 8 KV heads × 128 × 2 B = \(Int(perToken)) B/token × 8192 = \(gb(request, 2)) (\(gib(request)); \(gb(perToken * 8000, 2)) at 8000), × 32 = \(gb(batch)) (\(gib(batch))): the guide's figures are GiB, \(deviation(request / 1e9, from: 2.5)) in GB.")
    }

    static func m10(_ k: ClaimsKit) throws -> Finding {
        let m = k.memory(try k.model("llama-3.3-70b"), try k.gpu(card96), .fp8)
        let layout = ParallelLayout(tp: 4)
        let plan = m.plan(layout, maxModelLen: ClaimsKit.minKVTokens)
        let kv = plan.stages.reduce(0) { $0 + $1.kvCacheBytes } * Double(layout.tp)
        let kvGiB = kv / Double(1 << 30)
        // The 250 is what is left of 4 × 96 (card units, GiB): compare in GiB.
        return Finding(ours: "\(gb(m.totalWeightBytes)) weights; KV \(gib(kv)) (\(gb(kv)))", verdict: all([point(m.totalWeightBytes / 1e9, 75), point(kvGiB, 250)]),
                       why: "FP8 weights with 16-bit embeddings/head = \(gb(m.totalWeightBytes)) total (\(deviation(m.totalWeightBytes / 1e9, from: 75))), \(gib(plan.weightBytesPerGPU)) per GPU; 4 × (\(gib(m.usableBytes)) usable − weights − \(gib(plan.stages[0].activationBytes)) activations/non-torch) = \(gib(kv)) KV (\(deviation(kvGiB, from: 250)) in GiB, the card's unit; \(deviation(kv / 1e9, from: 250)) if read as decimal GB).")
    }

    static func m11(_ k: ClaimsKit) throws -> Finding {
        let m = k.memory(try k.model("llama-3.1-405b"), try k.gpu(card96), .fp8)
        let one = k.fitting(m, Cluster(gpusPerNode: 4))
        let two = Cluster(nodes: 2, gpusPerNode: 4), layout = ParallelLayout(tp: 4, pp: 2)
        let rejected = k.rejection(m, layout, cluster: two)
        let plan = m.plan(layout, maxModelLen: ClaimsKit.minKVTokens)
        return Finding(ours: "4 GPUs: \(one.isEmpty ? "no fit" : "fits"); TP=4×PP=2: \(rejected == nil ? "fits" : "no fit")",
                       verdict: all([exact(one.isEmpty), exact(rejected == nil)]),
                       why: "FP8 weights \(gb(m.totalWeightBytes)) exceed 4 × \(gb(m.usableBytes)) = \(gb(4 * m.usableBytes)) usable; over 2 nodes at TP=4×PP=2 (63/63 layers) each GPU holds \(gib(plan.weightBytesPerGPU)) and the replica \(plan.kvCapacityTokensPerReplica / 1000)k KV tokens.")
    }

    static func m12(_ k: ClaimsKit) throws -> Finding {
        // Sizes at the planner's q4: 4.5 bits per weight, embeddings and head kept 16-bit.
        let sizes: [(id: String, label: String, claim: Double)] = [
            ("llama-3.1-8b", "8B", 6), ("llama-3.1-70b", "70B", 42), ("mixtral-8x22b", "8x22B", 85),
            ("llama-3.1-405b", "405B", 230), ("deepseek-r1", "R1", 380),
        ]
        var verdicts: [ClaimCheck.Verdict] = [], sizeText: [String] = [], sizeShort: [String] = []
        for s in sizes {
            let w = try weights(k, s.id, .q4)
            verdicts.append(point(w / 1e9, s.claim))
            sizeShort.append("\(s.label) \(format(w / 1e9, 0))")
            sizeText.append("\(s.label) \(format(w / 1e9, 1)) (\(deviation(w / 1e9, from: s.claim)))")
        }
        let counts: [(model: String, gpu: String, claim: Int)] = [
            ("llama-3.1-70b", "rtx-4090", 2), ("llama-3.1-70b", "h100-sxm", 1),
            ("llama-3.1-405b", "h100-sxm", 4), ("llama-3.1-405b", "h200-sxm", 3),
        ]
        var countText: [String] = [], shortText: [String] = []
        for c in counts {
            let gpu = try k.gpu(c.gpu)
            let m = k.memory(try k.model(c.model), gpu, .q4)
            let found = k.minimumGPUs(m)
            verdicts.append(exact(found?.count == c.claim))
            let label = "\(c.model == "llama-3.1-70b" ? "70B" : "405B") on \(gpu.memoryBytes >> 30) GiB"
            shortText.append("\(label): \(found?.count ?? 0)")
            var line = "\(label): \(describe(found))"
            if let n = found?.count, n != c.claim {
                // Say what the claimed count gives, so the reader sees how it fails or what it wastes.
                let at = k.fitting(m, Cluster(gpusPerNode: c.claim), maxModelLen: 16).filter { $0.layout.dp == 1 }
                    .max { $0.plan.kvCapacityTokensPerReplica < $1.plan.kvCapacityTokensPerReplica }
                line += at.map { " vs claimed \(c.claim): \($0.layout.short) holds \($0.plan.kvCapacityTokensPerReplica) KV tokens" } ?? " vs claimed \(c.claim): nothing fits"
            }
            countText.append(line)
        }
        return Finding(ours: "GB: " + sizeShort.joined(separator: ", ") + "; min " + shortText.joined(separator: ", "),
                       verdict: all(verdicts),
                       why: "Q4 = 4.5 bits/weight (GGUF q4_K-like block scales), 16-bit embeddings: " + sizeText.joined(separator: ", ") + " GB. Min GPUs with one 8K KV: " + countText.joined(separator: "; ") + ".")
    }

    static func m13(_ k: ClaimsKit) throws -> Finding {
        let model = try k.model("deepseek-r1"), gpu = try k.gpu(card96)
        let bf16 = k.memory(model, gpu, .bf16), fp8 = k.memory(model, gpu, .fp8)
        // The native checkpoint adds one fp32 scale per 128×128 block of each quantised matrix.
        let p = fp8.params
        let scales = (p.total - p.embedding - p.lmHead) / (128 * 128) * 4
        let fp8Bytes = fp8.totalWeightBytes + scales
        let fits8 = k.fitting(fp8, Cluster(gpusPerNode: 8)).filter { $0.layout.dp == 1 || $0.layout.ep > 1 }
        let bf16Min = k.minimumGPUs(bf16)
        let fp16Verdict = point(bf16.totalWeightBytes / 1e9, 640)
        return Finding(ours: "BF16 \(gb(bf16.totalWeightBytes)); FP8 \(gb(fp8Bytes)); 8×96: \(fits8.isEmpty ? "no" : "FP8 fits")",
                       verdict: all([fp16Verdict, exact(!fits8.isEmpty)]),
                       why: "\(billions(p.total)) params × 2 B = \(gb(bf16.totalWeightBytes)) at FP16/BF16 (\(deviation(bf16.totalWeightBytes / 1e9, from: 640))), needing \(bf16Min.map { "\($0.count) × 96 GiB" } ?? "more than 32 cards"); 640 GB is the native FP8 size (\(gb(fp8Bytes)) incl. block scales, \(deviation(fp8Bytes / 1e9, from: 640))), which fits 8 × 96 GiB as \((fits8.first { $0.layout.dp == 1 } ?? fits8.first).map(\.layout.short) ?? "-"). The guide mislabels FP8 as FP16.")
    }
}
