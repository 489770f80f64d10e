import ArgumentParser
import Distributed
import Engine
import Foundation
import ModelFormats
import Models
import Tokenizers

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text for one or more prompts, offline, in one continuous batch.")

    @Option(name: .long, help: "Model directory (config.json, *.safetensors, tokenizer.json) or a .gguf file.")
    var model: String

    @Option(name: .long, help: "Prompt text.")
    var prompt: String?

    @Option(name: .customLong("prompt-file"), help: "File with one prompt per line.")
    var promptFile: String?

    @Option(name: .customLong("max-tokens"), help: "Maximum new tokens per prompt.")
    var maxTokens: Int = 64

    @Option(name: .long, help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(name: .customLong("top-p"), help: "Nucleus sampling: keep the most likely tokens up to this mass.")
    var topP: Float = 1

    @Option(name: .customLong("top-k"), help: "Keep only the k most likely tokens (0: all).")
    var topK: Int = 0

    @Option(name: .long, help: "Random seed for sampling.")
    var seed: UInt64?

    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past the end-of-sequence token.")
    var ignoreEOS = false

    @Flag(name: .long, help: "Print one JSON object per prompt: prompt_token_ids, token_ids, text.")
    var json = false

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard prompt != nil || promptFile != nil else { throw CLIError("give --prompt or --prompt-file") }
        guard maxTokens > 0 else { throw CLIError("--max-tokens must be positive") }
        guard temperature >= 0, temperature.isFinite else { throw CLIError("--temperature must be >= 0") }
    }

    func run() async throws {
        let prompts = try readPrompts()
        let (llm, _) = try engine.launch(model: model, log: { printError($0) })
        defer { llm.core.executor.shutdown() }
        var params = SamplingParams()
        params.temperature = temperature
        params.topP = topP
        params.topK = topK
        params.seed = seed
        params.maxTokens = maxTokens
        params.ignoreEOS = ignoreEOS
        params.skipSpecialTokens = true
        do { try params.validate() } catch { throw CLIError(error.description) }

        let promptIds = prompts.map { llm.tokenizer.encode($0) }
        if let empty = promptIds.firstIndex(where: \.isEmpty) {
            throw CLIError("prompt \(empty + 1) encodes to no tokens")
        }
        let start = Date()
        let outputs: [RequestOutput]
        do { outputs = try llm.generate(promptIds, params: params) } catch { throw CLIError("\(error)") }
        let seconds = Date().timeIntervalSince(start)
        for (ids, out) in zip(promptIds, outputs) {
            let sample = out.outputs[0]
            print(json ? try jsonLine(promptIds: ids, ids: sample.tokenIds, text: sample.text) : sample.text)
        }
        let promptTokens = promptIds.reduce(0) { $0 + $1.count }
        let generated = outputs.reduce(0) { $0 + $1.numGeneratedTokens }
        printError("Processed \(prompts.count) prompts in \(String(format: "%.2f", seconds)) s: \(promptTokens) prompt + \(generated) generated tokens, " +
                   "\(String(format: "%.1f", Double(generated) / seconds)) generated tok/s, \(String(format: "%.1f", Double(promptTokens + generated) / seconds)) total tok/s")
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

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
