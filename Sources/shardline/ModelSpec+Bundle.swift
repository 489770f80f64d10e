import Foundation
import Models
import Planner

extension ModelSpec {
    /// The planner's view of a model the engine loaded (a GGUF or checkpoint directory), built
    /// from its config as a Hugging Face config.json would state it.
    init(bundle: ModelBundle, path: String) throws {
        let c = bundle.config
        var config: [String: Any] = [
            "model_type": c.architecture.rawValue, "hidden_size": c.hiddenSize, "intermediate_size": c.intermediateSize,
            "num_hidden_layers": c.numLayers, "num_attention_heads": c.numHeads, "num_key_value_heads": c.numKVHeads,
            "head_dim": c.headDim, "vocab_size": c.vocabSize, "tie_word_embeddings": c.tieWordEmbeddings,
            "max_position_embeddings": c.maxPositionEmbeddings,
        ]
        if let w = c.slidingWindow { config["sliding_window"] = w }
        try self.init(huggingFaceConfig: try JSONSerialization.data(withJSONObject: config),
                      id: URL(fileURLWithPath: path).lastPathComponent, source: path)
    }
}
