import Foundation
import Testing

/// The same layouts as ParallelGenerateTests, with the ranks started by Open MPI's `mpirun`
/// (localhost, shared-memory BTL) instead of by rank 0: the MPI backend must give the
/// single-device tokens too.
@Suite(.serialized, .enabled(if: mpirunPath != nil, "mpirun (openmpi-bin) is not installed"))
struct MPIGenerateTests {
    static func underMPI(ranks: Int, _ arguments: [String]) throws -> ProcessResult {
        let shardline = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("shardline").path
        var env = ProcessInfo.processInfo.environment
        if getuid() == 0 {
            env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
            env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        }
        let oversubscribe = ranks > ProcessInfo.processInfo.activeProcessorCount ? ["--oversubscribe"] : []
        return try runProcess(mpirunPath!, ["-np", String(ranks)] + oversubscribe + ["--mca", "btl", "self,vader", shardline] + arguments,
                              environment: env, timeout: 120)
    }

    @Test(arguments: ["tiny-llama", "tiny-qwen2"])
    func everyLayoutUnderMpirunGivesTheSingleDeviceTokens(model: String) throws {
        let single = try ParallelGenerateTests.generate(model, [])
        try #require(single.status == 0, "\(single.stderr)")
        let file = try ParallelGenerateTests.promptFile()
        let path = GenerateCommandTests.fixtures.appendingPathComponent(model).path
        let base = ["generate", "--model", path, "--prompt-file", file.path, "--max-tokens", "24", "--json",
                    "--kv-cache-memory", "8MiB", "--max-model-len", "256", "--max-num-batched-tokens", "64"]
        let layouts: [(Int, [String])] = [(2, ["-tp", "2"]), (4, ["-tp", "4"]), (2, ["-pp", "2"]), (4, ["-pp", "4"]),
                                         (4, ["-tp", "2", "-pp", "2"]), (2, ["-pp", "2", "--pp-layer-partition", "1,3"])]
        for (ranks, layout) in layouts {
            let result = try Self.underMPI(ranks: ranks, base + layout)
            #expect(result.status == 0, "\(layout): \(result.stderr)")
            #expect(result.stdout == single.stdout, "\(model) mpirun -np \(ranks) \(layout.joined(separator: " "))")
        }
    }

    @Test func aRankCountThatDoesNotMatchTheLayoutIsRefused() throws {
        let path = GenerateCommandTests.fixtures.appendingPathComponent("tiny-llama").path
        let result = try Self.underMPI(ranks: 2, ["generate", "--model", path, "--prompt", "hi", "-tp", "2", "-pp", "2"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("mpirun started 2 ranks but --tensor-parallel-size × --pipeline-parallel-size is 4"))
    }
}

let mpirunPath: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
