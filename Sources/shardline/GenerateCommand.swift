import ArgumentParser
import Foundation
import ModelFormats
import Models
import Tokenizers

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text for one or more prompts, offline.")

    @Option(name: .long, help: "Model directory (config.json, *.safetensors, tokenizer.json).")
    var model: String

    @Option(name: .long, help: "Prompt text.")
    var prompt: String?

    @Option(name: .customLong("prompt-file"), help: "File with one prompt per line.")
    var promptFile: String?

    @Option(name: .customLong("max-tokens"), help: "Maximum new tokens per prompt.")
    var maxTokens: Int = 64

    @Option(name: .long, help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(name: .long, help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Print one JSON object per prompt: prompt_token_ids, token_ids, text.")
    var json = false

    func validate() throws {
        guard prompt != nil || promptFile != nil else { throw CLIError("give --prompt or --prompt-file") }
        guard maxTokens > 0 else { throw CLIError("--max-tokens must be positive") }
        guard temperature >= 0, temperature.isFinite else { throw CLIError("--temperature must be >= 0") }
    }

    func run() async throws {
        let prompts = try readPrompts()
        let loaded: any CausalLanguageModel
        let tokenizer: BPETokenizer
        do {
            loaded = try ModelLoader.load(directory: model)
            tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: model))
        } catch let error as CustomStringConvertible {
            throw CLIError(error.description)
        }
        var stops = Set(loaded.config.eosTokenIds)
        if let eos = tokenizer.eosTokenId { stops.insert(eos) }
        let generator = TextGenerator(model: loaded)
        for text in prompts {
            let promptIds = tokenizer.encode(text)
            guard !promptIds.isEmpty else { throw CLIError("prompt '\(text)' encodes to no tokens") }
            guard promptIds.count + maxTokens <= loaded.config.maxPositionEmbeddings else {
                throw CLIError("prompt of \(promptIds.count) tokens + --max-tokens \(maxTokens) exceeds the model's \(loaded.config.maxPositionEmbeddings) positions")
            }
            let ids = generator.generate(prompt: promptIds, maxTokens: maxTokens, temperature: temperature, seed: seed, stopTokenIds: stops)
            let output = tokenizer.decode(ids, skipSpecialTokens: true)
            if json {
                print(try jsonLine(promptIds: promptIds, ids: ids, text: output))
            } else {
                print(output)
            }
        }
    }

    private func readPrompts() throws -> [String] {
        var prompts: [String] = []
        if let prompt { prompts.append(prompt) }
        if let promptFile {
            guard let contents = try? String(contentsOfFile: promptFile, encoding: .utf8) else {
                throw CLIError("--prompt-file \(promptFile): cannot read as UTF-8 text")
            }
            prompts += contents.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }
        guard !prompts.isEmpty else { throw CLIError("--prompt-file \(promptFile ?? ""): no prompts") }
        return prompts
    }

    /// Fields in a fixed order (prompt ids, generated ids, text) so lines diff cleanly.
    private func jsonLine(promptIds: [Int], ids: [Int], text: String) throws -> String {
        func list(_ xs: [Int]) -> String { "[" + xs.map(String.init).joined(separator: ",") + "]" }
        let quoted = String(decoding: try JSONEncoder().encode(text), as: UTF8.self)
        return "{\"prompt_token_ids\":\(list(promptIds)),\"token_ids\":\(list(ids)),\"text\":\(quoted)}"
    }
}
