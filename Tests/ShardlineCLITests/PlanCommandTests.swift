import Foundation
import Testing

/// `shardline plan` and `shardline simulate` as a user runs them.
@Suite struct PlanCommandTests {
    @Test func planListsLayoutsWithFitAndARecommendation() throws {
        let result = try runShardline(["plan", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--gpus", "4",
                                       "--max-model-len", "8192", "--concurrency", "8"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("TP1 PP1 DP4  no"))
        #expect(result.stdout.contains("TP4 PP1 DP1  yes"))
        #expect(result.stdout.contains("recommended: TP=2"))
    }

    @Test func planJSONIsJSON() throws {
        let result = try runShardline(["plan", "--model", "llama-3.1-8b", "--gpu", "l4", "--gpus", "2", "--max-model-len", "4096",
                                       "--concurrency", "4", "--json"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((object?["rows"] as? [Any])?.count == 3)
    }

    @Test func simulateReportsLatenciesAndStageBusy() throws {
        let result = try runShardline(["simulate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "-pp", "2", "--num-prompts", "32",
                                       "--input-len", "256", "--output-len", "32", "--max-model-len", "4096"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("requests 32 in") && result.stdout.contains("TTFT ms") && result.stdout.contains("stage 1"))
    }

    @Test func simulateWritesTheSameTraceFormatAsTheEngine() throws {
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("shardline-sim-trace-\(getpid()).json")
        let result = try runShardline(["simulate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "-pp", "2", "--num-prompts", "16",
                                       "--input-len", "128", "--output-len", "16", "--max-model-len", "4096", "--trace-file", trace.path], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try runShardline(["trace-summary", trace.path])
        #expect(summary.status == 0 && summary.stdout.contains("stage 0: busy") && summary.stdout.contains("stage 1: busy"), "\(summary.stdout)")
    }

    @Test func checkClaimsGivesAVerdictPerSeedClaim() throws {
        let result = try runShardline(["plan", "--check-claims"], timeout: 180)
        #expect(result.status == 0, "\(result.stderr)")
        for id in ["M1", "M13", "L2", "C5", "T3", "T10"] { #expect(result.stdout.contains("| \(id) |"), "\(id)") }
        #expect(result.stdout.contains("32 claims:"))
    }

    @Test func aProfiledDeviceFeedsTheSimulator() throws {
        let profile = try runShardline(["plan", "--profile-device", "--device-memory", "4GiB", "--devices-per-host", "2"], timeout: 120)
        #expect(profile.status == 0, "\(profile.stderr)")
        let spec = try JSONSerialization.jsonObject(with: Data(profile.stdout.utf8)) as? [String: Any]
        #expect((spec?["memory_bytes_nominal"] as? Int) == 2 << 30)
        #expect(((spec?["memory_bandwidth_gbps"] as? Double) ?? 0) > 0.5)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("shardline-cpu-\(getpid()).json")
        try profile.stdout.write(to: file, atomically: true, encoding: .utf8)
        let sim = try runShardline(["simulate", "--model", "gemma-3-270m", "--gpu-file", file.path, "--quantization", "q4", "-tp", "2",
                                    "--num-prompts", "8", "--input-len", "16", "--output-len", "16", "--max-model-len", "1024"], timeout: 120)
        #expect(sim.status == 0, "\(sim.stderr)")
        #expect(sim.stdout.contains("requests 8 in"))

        let tiny = GenerateCommandTests.fixtures.appendingPathComponent("tiny-llama").path
        let calibration = try runShardline(["calibrate", "--model", tiny, "--gpu-file", file.path, "--quantization", "fp16", "-tp", "2",
                                            "--num-prompts", "4", "--input-len", "8", "--output-len", "8"], timeout: 120)
        #expect(calibration.status == 0, "\(calibration.stderr)")
        for row in ["output throughput", "TTFT mean", "TPOT mean", "step time"] { #expect(calibration.stdout.contains(row), "\(row)") }
    }

    @Test func aModelProfileIsFittedAndCalibrates() throws {
        // The engine's own decode step and prefill on the tiny model, fitted into a measured spec.
        let tiny = GenerateCommandTests.fixtures.appendingPathComponent("tiny-llama").path
        let profile = try runShardline(["plan", "--profile-device", "--model", tiny, "--quantization", "fp16", "--device-memory", "4GiB"], timeout: 300)
        #expect(profile.status == 0, "\(profile.stderr)")
        let spec = try JSONSerialization.jsonObject(with: Data(profile.stdout.utf8)) as? [String: Any]
        #expect(spec?["measured"] as? Bool == true)
        #expect(((spec?["memory_bandwidth_gbps"] as? Double) ?? 0) > 0)
        #expect(((spec?["bf16_dense_tflops"] as? Double) ?? 0) > 0)
        #expect((spec?["note"] as? String)?.contains("tiny-llama") == true)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("shardline-tiny-\(getpid()).json")
        try profile.stdout.write(to: file, atomically: true, encoding: .utf8)
        let calibration = try runShardline(["calibrate", "--model", tiny, "--gpu-file", file.path, "--quantization", "fp16",
                                            "--num-prompts", "1,3", "--runs", "1", "--input-len", "8", "--output-len", "8"], timeout: 120)
        #expect(calibration.status == 0, "\(calibration.stderr)")
        #expect(calibration.stdout.components(separatedBy: "output throughput").count == 3, "\(calibration.stdout)")
        GenerateCommandTests().expectOneLineError(try runShardline(["calibrate", "--model", tiny, "--gpu-file", file.path, "--num-prompts", "1,x"]),
                                                  containing: "--num-prompts")
        // The engine and the simulator take the same explicit layer split; a split the model cannot take is a flag error.
        let split = try runShardline(["calibrate", "--model", tiny, "--gpu-file", file.path, "--quantization", "fp16", "-pp", "2",
                                      "--pp-layer-partition", "3,1", "--num-prompts", "2", "--runs", "1", "--input-len", "8", "--output-len", "8"],
                                     timeout: 120)
        #expect(split.status == 0, "\(split.stderr)")
        #expect(split.stdout.contains("PP=2 DP=1 EP=1 (layers 3,1)"), "\(split.stdout)")
        for partition in ["3,x", "3,3"] {
            GenerateCommandTests().expectOneLineError(try runShardline(["calibrate", "--model", tiny, "--gpu-file", file.path, "-pp", "2",
                                                                        "--pp-layer-partition", partition]), containing: "--pp-layer-partition")
        }
    }

    @Test func unknownNamesAndBadLayoutsAreOneLineErrors() throws {
        GenerateCommandTests().expectOneLineError(try runShardline(["plan", "--model", "llama-9", "--gpu", "h100-sxm", "--gpus", "1"]),
                                                  containing: "llama-9")
        GenerateCommandTests().expectOneLineError(try runShardline(["simulate", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "-tp", "3"]),
                                                  containing: "does not fit")
        GenerateCommandTests().expectOneLineError(try runShardline(["plan", "--model", "llama-3.1-8b", "--gpu", "h100-sxm"]),
                                                  containing: "--gpus")
        let simulate = ["simulate", "--model", "llama-3.1-8b", "--gpu", "l4", "--max-model-len", "8192", "--num-prompts", "4"]
        for (flags, flag) in [(["--routing", "sticky"], "--routing"), (["-dp", "0"], "--data-parallel-size"),
                              (["-pp", "2", "--pp-layer-partition", "16,15"], "--pp-layer-partition"),
                              (["-pp", "2", "--pp-layer-partition", "16,x"], "--pp-layer-partition"),
                              (["--shared-prefix-len=-5"], "--shared-prefix-len"), (["--num-prefixes", "0"], "--num-prefixes"),
                              (["--request-rate", "fast"], "--request-rate")] {
            GenerateCommandTests().expectOneLineError(try runShardline(simulate + flags), containing: flag)
        }
        let uneven = try runShardline(simulate + ["-pp", "2", "--pp-layer-partition", "20,12"])
        #expect(uneven.status == 0, "\(uneven.stderr)")
        #expect(uneven.stdout.contains("PP=2 DP=1 EP=1 (layers 20,12)"), "\(uneven.stdout)")
    }
}
