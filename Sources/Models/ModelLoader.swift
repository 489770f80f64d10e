import ModelFormats

/// Opens a model directory (config.json + safetensors) as the right architecture.
public enum ModelLoader {
    public static let supported: [ModelArchitecture] = [.llama, .mistral, .qwen2, .gemma3]

    public static func load(directory: String) throws -> any CausalLanguageModel {
        let config = try ModelConfig.load(directory: directory)
        guard supported.contains(config.architecture) else {
            throw ModelFormatError.unsupportedArchitecture(
                path: directory + "/config.json", found: config.architecture.rawValue, supported: supported.map(\.rawValue))
        }
        let checkpoint = try SafeTensorsCheckpoint(directory: directory)
        if config.architecture == .gemma3 {
            return try Gemma3Model(config: config, weights: SafeTensorsWeightStore(checkpoint: checkpoint),
                                   names: .huggingFace, normsIncludeOne: false)
        }
        return try LlamaModel(config: config, checkpoint: checkpoint)
    }
}
