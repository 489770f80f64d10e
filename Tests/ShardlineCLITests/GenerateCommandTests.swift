import Foundation
import Testing

/// `shardline generate` as a user runs it: a real process, its output and exit status.
@Suite struct GenerateCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures")

    @Test func jsonOutputMatchesReference() throws {
        let model = Self.fixtures.appendingPathComponent("tiny-llama").path
        let result = try runShardline(["generate", "--model", model, "--prompt", "The capital of France is", "--max-tokens", "24", "--json"])
        #expect(result.status == 0)
        let line = try #require(result.stdout.split(separator: "\n").first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["prompt_token_ids"] as? [Int] == [1, 56, 444, 275, 69, 84, 286, 299, 278, 390, 86, 292, 318, 334])
        #expect(object["token_ids"] as? [Int] == [91, 91, 91, 444, 442, 220, 220, 220, 220, 366, 449, 442, 220, 366, 449, 442, 442, 442, 438, 438, 438, 438, 352, 449])
        #expect(object["text"] as? String == "wwwheication\u{1b}\u{1b}\u{1b}\u{1b} copyainication\u{1b} copyainicationicationicationququququ itain")
    }

    @Test func promptFileGivesOneLinePerPrompt() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("prompts.txt")
        try "Hello there\nThe capital of France is\n".write(to: file, atomically: true, encoding: .utf8)
        let model = Self.fixtures.appendingPathComponent("tiny-qwen2").path
        let result = try runShardline(["generate", "--model", model, "--prompt-file", file.path, "--max-tokens", "3", "--json"])
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").count == 2)
    }

    @Test func missingModelDirectory() throws {
        let result = try runShardline(["generate", "--model", "/no/such/model", "--prompt", "hi"])
        expectOneLineError(result, containing: "/no/such/model")
    }

    @Test func truncatedSafetensors() throws {
        let dir = try copyOfModel("tiny-llama")
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = dir.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count / 2).write(to: weights)
        let result = try runShardline(["generate", "--model", dir.path, "--prompt", "hi"])
        expectOneLineError(result, containing: "model.safetensors")
    }

    @Test func headerOffsetsPastEnd() throws {
        let dir = try copyOfModel("tiny-llama")
        defer { try? FileManager.default.removeItem(at: dir) }
        let header = #"{"model.norm.weight":{"dtype":"F32","shape":[64],"data_offsets":[4096,4352]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
        bytes.append(Data(header.utf8))
        bytes.append(Data(count: 256))
        try bytes.write(to: dir.appendingPathComponent("model.safetensors"))
        let result = try runShardline(["generate", "--model", dir.path, "--prompt", "hi"])
        expectOneLineError(result, containing: "point past the end")
    }

    @Test func unknownArchitecture() throws {
        let dir = try copyOfModel("tiny-llama")
        defer { try? FileManager.default.removeItem(at: dir) }
        try #"{"model_type": "gpt_bigcode", "hidden_size": 64}"#.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let result = try runShardline(["generate", "--model", dir.path, "--prompt", "hi"])
        expectOneLineError(result, containing: "unsupported architecture 'gpt_bigcode'; supported: llama")
    }

    @Test func tokenizerWithUnknownModelType() throws {
        let dir = try copyOfModel("tiny-llama")
        defer { try? FileManager.default.removeItem(at: dir) }
        try #"{"version": "1.0", "added_tokens": [], "model": {"type": "WordPiece", "vocab": {"a": 0}}}"#
            .write(to: dir.appendingPathComponent("tokenizer.json"), atomically: true, encoding: .utf8)
        let result = try runShardline(["generate", "--model", dir.path, "--prompt", "hi"])
        expectOneLineError(result, containing: "WordPiece")
    }

    @Test func badFlagValues() throws {
        let model = Self.fixtures.appendingPathComponent("tiny-llama").path
        let noPrompt = try runShardline(["generate", "--model", model])
        expectOneLineError(noPrompt, containing: "--prompt")
        let badTokens = try runShardline(["generate", "--model", model, "--prompt", "x", "--max-tokens", "0"])
        expectOneLineError(badTokens, containing: "--max-tokens")
        let missingFile = try runShardline(["generate", "--model", model, "--prompt-file", "/no/prompts.txt"])
        expectOneLineError(missingFile, containing: "/no/prompts.txt")
        for (flag, value) in [("--decode-tokens", "0"), ("--runs", "0"), ("--batches", "0")] {
            expectOneLineError(try runShardline(["bench-model", "--model", model, flag, value]), containing: flag)
        }
    }

    /// The compute layer's environment knobs: a value it would ignore is an error naming the variable.
    @Test(arguments: [("SHARDLINE_NUM_THREADS", "two"), ("SHARDLINE_NUM_THREADS", "0"), ("SHARDLINE_PREFETCH_BYTES", "-1"),
                      ("SHARDLINE_PREFETCH_BYTES", "8MB")])
    func badEnvironmentKnobs(name: String, value: String) throws {
        let model = Self.fixtures.appendingPathComponent("tiny-llama").path
        var environment = ProcessInfo.processInfo.environment
        environment[name] = value
        let result = try runShardline(["generate", "--model", model, "--prompt", "x"], environment: environment)
        expectOneLineError(result, containing: "\(name) must be")
        #expect(result.stderr.contains("'\(value)'"))
    }

    // MARK: helpers

    func expectOneLineError(_ result: ProcessResult, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status != 0, "exit status", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(text), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    }

    func scratchDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shardline-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func copyOfModel(_ name: String) throws -> URL {
        let dir = try scratchDirectory()
        let source = Self.fixtures.appendingPathComponent(name)
        for file in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        return dir
    }
}

struct ProcessResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the `shardline` binary built beside this test bundle, with a time limit so a hang fails.
func runShardline(_ arguments: [String], environment: [String: String]? = nil, timeout: TimeInterval = 60) throws -> ProcessResult {
    let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return try runProcess(bundleDir.appendingPathComponent("shardline").path, arguments, environment: environment, timeout: timeout)
}

/// Runs any program with a time limit.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: TimeInterval) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    let stderrData = err.fileHandleForReading.readDataToEndOfFile()
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                         stderr: String(decoding: stderrData, as: UTF8.self))
}

@Suite struct EngineFlagTests {
    let model = GenerateCommandTests.fixtures.appendingPathComponent("tiny-llama").path

    @Test func tooSmallKVCacheRefusesToStartAndSaysWhichFlag() throws {
        let result = try runShardline(["generate", "--model", model, "--prompt", "hi", "--kv-cache-memory", "64KiB"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("not enough memory for the KV cache") && result.stderr.contains("--max-model-len"))
        #expect(result.stderr.contains("per block") && result.stderr.contains("weights"))
    }

    @Test func capacityLineAndThroughputAreLogged() throws {
        let result = try runShardline(["generate", "--model", model, "--prompt", "hi", "--max-tokens", "2",
                                       "--kv-cache-memory", "16MiB", "--max-model-len", "256"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("KV cache: 16384 tokens; max concurrency at max-model-len 256: 64.00x"))
        #expect(result.stderr.contains("Processed 1 prompts"))
    }

    @Test func vllmSpellingsOfEngineFlagsAreAccepted() throws {
        let result = try runShardline(["generate", "--model", model, "--prompt", "hi", "--max-tokens", "2", "--no-enable-prefix-caching",
                                       "--scheduling-policy", "priority", "--max-num-seqs", "4", "--max-num-batched-tokens", "64",
                                       "--block-size", "8", "--device-memory", "1GiB", "--gpu-memory-utilization", "0.5"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("KV cache:"))
    }

    @Test(arguments: [
        (["--scheduling-policy", "lifo"], "--scheduling-policy"),
        (["--kv-cache-memory", "lots"], "--kv-cache-memory"),
        (["--gpu-memory-utilization", "1.5"], "--gpu-memory-utilization"),
        (["--max-model-len", "100000"], "--max-model-len"),
        (["--max-num-seqs", "0"], "--max-num-seqs"),
    ])
    func badEngineFlagsGiveOneLine(flags: [String], named: String) throws {
        let result = try runShardline(["generate", "--model", model, "--prompt", "hi"] + flags)
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(named), "\(result.stderr)")
    }
}
