/// Every factor the cost model and the memory math assume, in one place, each with why.
/// They are first guesses to be replaced by calibration against the real engine (issue 7, step 5).
public enum Efficiency {
    /// Share of dense tensor-core peak a large GEMM reaches: cuBLAS/CUTLASS bf16 GEMMs on
    /// A100/H100 sustain ~60-75% of peak at serving shapes; the low end covers skinny prefill chunks.
    public static let gemmCompute = 0.6
    /// Share of HBM bandwidth a weight-streaming GEMV reaches: decode kernels read weights at
    /// ~80% of the datasheet figure (STREAM-like copies reach ~85-90%).
    public static let memoryBandwidth = 0.8
    /// Paged attention reads scattered KV blocks with per-block index loads, so it reaches less
    /// of HBM bandwidth than a contiguous stream (FlashAttention/FlashInfer decode ~60-70%).
    public static let attentionMemory = 0.65
    /// Prefill attention FLOPs (FlashAttention-2/3 reach ~50% of peak including softmax).
    public static let attentionCompute = 0.5
    /// NCCL reaches ~80% of link bandwidth on large messages (its "bus bandwidth").
    public static let link = 0.8
}

public enum Overheads {
    /// Host time per step on each worker: input preparation, block-table upload, CUDA-graph
    /// launch, sampling bookkeeping. vLLM v1 spends ~0.5-1.5 ms; one millisecond.
    public static let perStepSeconds = 1.0e-3
    /// Device memory used outside the model and KV cache that `--gpu-memory-utilization` must
    /// also cover: CUDA context remainder, cuBLAS workspaces, NCCL buffers, CUDA graphs. vLLM
    /// reports ~0.5-1.5 GiB of "non-torch" memory; 1 GiB.
    public static let nonTorchBytes = 1 << 30
    /// Activations are 16-bit whatever the weight format (W8A8 quantises them per GEMM, transiently).
    public static let activationBytesPerElement = 2
    /// Logits are materialised in fp32 for sampling.
    public static let logitBytesPerElement = 4
    /// Embedding and LM head stay 16-bit under fp8/int8/q4: vLLM's fp8 and W8A8 schemes leave
    /// them unquantised, and it is the conservative choice for GGUF q4 models too.
    public static let embeddingBytesPerWeight = 2.0
}
