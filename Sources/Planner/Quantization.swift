/// Weight storage formats `shardline plan --quantization` accepts.
public enum Quantization: String, Sendable, Codable, CaseIterable {
    case fp16, bf16, fp8, int8, q4

    /// Bytes per stored weight. q4 is 4.5 bits: GGUF q4_0 and q4_K both spend about half a bit
    /// per weight on block scales, so a bare 0.5 would undercount by 12%.
    public var bytesPerWeight: Double {
        switch self {
        case .fp16, .bf16: 2
        case .fp8, .int8: 1
        case .q4: 4.5 / 8
        }
    }

    /// Peak dense throughput (FLOP/s) the GEMMs run at. fp8 and int8 are taken as W8A8 on tensor
    /// cores that support them; where a GPU lacks the format (A100 has no fp8) and for q4, the
    /// weights are dequantised and multiplied in 16-bit, as vLLM's Marlin and llama.cpp kernels do.
    public func peakFLOPS(on gpu: GPUSpec) -> Double {
        let sixteen = (self == .fp16 ? gpu.fp16DenseTFLOPS : gpu.bf16DenseTFLOPS) ?? gpu.fp16DenseTFLOPS ?? 0
        let tflops: Double
        switch self {
        case .fp16, .bf16, .q4: tflops = sixteen
        case .fp8: tflops = gpu.fp8DenseTFLOPS ?? sixteen
        case .int8: tflops = gpu.int8DenseTOPS ?? sixteen
        }
        return tflops * 1e12
    }
}
