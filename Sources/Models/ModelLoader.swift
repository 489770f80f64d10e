import Compute
import ModelFormats

/// Opens a model directory (config.json + safetensors) as the right architecture.
public enum ModelLoader {
    public static let supported: [ModelArchitecture] = [.llama, .mistral, .qwen2, .mixtral, .gemma3]

    public static func load(directory: String, shard: ((ModelConfig) throws -> ShardPlan)? = nil,
                            format: WeightFormat = .float32) throws -> any CausalLanguageModel {
        let config = try ModelConfig.load(directory: directory)
        let plan = try shard?(config)
        guard supported.contains(config.architecture) else {
            throw ModelFormatError.unsupportedArchitecture(
                path: directory + "/config.json", found: config.architecture.rawValue, supported: supported.map(\.rawValue))
        }
        let checkpoint = try SafeTensorsCheckpoint(directory: directory)
        if config.architecture == .gemma3 {
            return try Gemma3Model(config: config, weights: SafeTensorsWeightStore(checkpoint: checkpoint, format: format),
                                   names: .huggingFace, normsIncludeOne: false, plan: plan)
        }
        return try LlamaModel(config: config, checkpoint: checkpoint, plan: plan, format: format)
    }
}

extension ModelLoader {
    public static let supportedGGUF: [ModelArchitecture] = [.llama, .mistral, .qwen2, .mixtral, .gemma3]

    /// A GGUF file's network; quantized weights stay in the memory map.
    public static func load(gguf: GGUFFile, config: ModelConfig, plan: ShardPlan? = nil) throws -> any CausalLanguageModel {
        guard supportedGGUF.contains(config.architecture) else {
            throw ModelFormatError.unsupportedArchitecture(path: gguf.path, found: config.architecture.rawValue,
                                                           supported: supportedGGUF.map(\.rawValue))
        }
        if config.architecture == .gemma3 {
            return try Gemma3Model(config: config, weights: GGUFWeightStore(file: gguf), names: .gguf, normsIncludeOne: true, plan: plan)
        }
        // llama.cpp permutes q/k rows of "llama" GGUFs for GGML's interleaved RoPE; qwen2 keeps NeoX order.
        let store = GGUFWeightStore(file: gguf, undoRopePermutation: config.architecture != .qwen2)
        return try LlamaModel(config: config, weights: store, names: .gguf, plan: plan)
    }
}
