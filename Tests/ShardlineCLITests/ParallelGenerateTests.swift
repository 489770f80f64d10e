import Foundation
import Testing

/// `generate -tp/-pp`: worker processes over shared memory must give exactly the single-device
/// greedy outputs, for the Llama-family fixtures (Mixtral's experts sharded like the MLP), every
/// layout, and uneven stage splits.
@Suite(.serialized) struct ParallelGenerateTests {
    static let prompts = [
        "The capital of France is", "Hello", "Pipeline parallelism splits the layers of a model into stages",
        "def fibonacci(n):", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", "Tell me a story about a dragon",
        "a", "Tensor parallel shards every matmul over the devices of a group",
    ]

    static func promptFile() throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("shardline-parallel-prompts-\(getpid()).txt")
        try prompts.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    static func generate(_ model: String, _ extra: [String]) throws -> ProcessResult {
        let file = try promptFile()
        let path = GenerateCommandTests.fixtures.appendingPathComponent(model).path
        return try runShardline(["generate", "--model", path, "--prompt-file", file.path, "--max-tokens", "24", "--json",
                                 "--kv-cache-memory", "8MiB", "--max-model-len", "256", "--max-num-batched-tokens", "64"] + extra)
    }

    static let layouts: [[String]] = [
        ["-tp", "2"], ["-tp", "4"], ["-pp", "2"], ["-pp", "4"], ["-tp", "2", "-pp", "2"],
        ["-pp", "2", "--pp-layer-partition", "3,1"], ["-pp", "3", "--pp-layer-partition", "1,2,1"],
        ["--tensor-parallel-size", "2", "--pipeline-parallel-size", "2", "--pp-layer-partition", "1,3"],
    ]

    @Test(arguments: ["tiny-llama", "tiny-qwen2", "tiny-mixtral"])
    func everyLayoutGivesTheSingleDeviceTokens(model: String) throws {
        let single = try Self.generate(model, [])
        try #require(single.status == 0, "\(single.stderr)")
        #expect(single.stdout.split(separator: "\n").count == Self.prompts.count)
        for layout in Self.layouts {
            let result = try Self.generate(model, layout)
            #expect(result.status == 0, "\(layout): \(result.stderr)")
            #expect(result.stdout == single.stdout, "\(model) \(layout.joined(separator: " "))")
        }
    }

    /// `--enable-expert-parallel`: Mixtral's ranks hold whole experts (their share) instead of
    /// a slice of each, and still give the single-device tokens.
    @Test func expertParallelGivesTheSingleDeviceTokens() throws {
        let single = try Self.generate("tiny-mixtral", [])
        try #require(single.status == 0, "\(single.stderr)")
        for layout in [["-tp", "2"], ["-tp", "4"], ["-tp", "2", "-pp", "2"]] {
            let result = try Self.generate("tiny-mixtral", layout + ["--enable-expert-parallel"])
            #expect(result.status == 0, "\(layout): \(result.stderr)")
            #expect(result.stdout == single.stdout, "expert parallel \(layout.joined(separator: " "))")
            let experts = layout[1] == "4" ? "experts 2-3" : "experts 4-7"
            #expect(result.stderr.contains("rank 1: stage layers") && result.stderr.contains(experts), "\(result.stderr)")
        }
    }

    @Test func startupPrintsOneLinePerWorkerAndTheGroupCapacity() throws {
        let result = try Self.generate("tiny-llama", ["-tp", "2", "-pp", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        for rank in 0..<4 { #expect(result.stderr.contains("rank \(rank): stage layers"), "rank \(rank)") }
        #expect(result.stderr.contains("rank 3: stage layers 2-3, tp 1/2 heads 2-3 (KV 1-1)"))
        #expect(result.stderr.contains("KV cache: ") && result.stderr.contains("on each of 4 devices"))
    }

    @Test func aTensorParallelSizeThatDoesNotDivideTheHeadsIsRefused() throws {
        let result = try Self.generate("tiny-llama", ["-tp", "3"])
        GenerateCommandTests().expectOneLineError(result, containing: "--tensor-parallel-size 3 does not divide the model's 4 attention heads")
        #expect(result.stderr.contains("valid sizes: 1, 2, 4"))
    }

    @Test func badPartitionsAndTooManyStagesAreRefused() throws {
        GenerateCommandTests().expectOneLineError(try Self.generate("tiny-llama", ["-pp", "2", "--pp-layer-partition", "3,2"]), containing: "--pp-layer-partition 3,2")
        GenerateCommandTests().expectOneLineError(try Self.generate("tiny-llama", ["-pp", "2", "--pp-layer-partition", "x"]), containing: "--pp-layer-partition 'x'")
        GenerateCommandTests().expectOneLineError(try Self.generate("tiny-llama", ["-pp", "5"]), containing: "--pipeline-parallel-size 5 is more than the model's 4 layers")
    }

    @Test func noWorkerOutlivesTheRun() throws {
        let result = try Self.generate("tiny-llama", ["-tp", "2", "-pp", "2"])
        #expect(result.status == 0)
        // Workers exit on shutdown; none is left holding a segment.
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm"))?.filter { $0.hasPrefix("shardline-") && !$0.hasPrefix("shardline-test-") } ?? []
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
