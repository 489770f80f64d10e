import ModelFormats

/// Opens a model directory (config.json + safetensors) as the right architecture.
public enum ModelLoader {
    public static func load(directory: String) throws -> any CausalLanguageModel {
        let config = try ModelConfig.load(directory: directory)
        guard LlamaModel.architectures.contains(config.architecture) else {
            throw ModelFormatError.unsupportedArchitecture(
                path: directory + "/config.json", found: config.architecture.rawValue,
                supported: LlamaModel.architectures.map(\.rawValue).sorted())
        }
        let checkpoint = try SafeTensorsCheckpoint(directory: directory)
        return try LlamaModel(config: config, checkpoint: checkpoint)
    }
}
