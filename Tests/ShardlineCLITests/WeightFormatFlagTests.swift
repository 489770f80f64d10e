import Foundation
import Testing

/// `--quantization` and `--dtype` as a user types them.
@Suite struct WeightFormatFlagTests {
    let model = GenerateCommandTests.fixtures.appendingPathComponent("tiny-llama").path

    @Test(arguments: [["--quantization", "int8"], ["--quantization", "fp8"], ["--dtype", "float16"], ["--dtype", "bfloat16"],
                      ["-q", "int8", "-tp", "2"]])
    func formatsRun(flags: [String]) throws {
        let result = try runShardline(["generate", "--model", model, "--prompt", "hi", "--max-tokens", "4", "--kv-cache-memory", "8MiB"] + flags)
        #expect(result.status == 0, "\(flags): \(result.stderr)")
    }

    @Test func unknownValuesNameTheFlag() throws {
        GenerateCommandTests().expectOneLineError(try runShardline(["generate", "--model", model, "--prompt", "hi", "--quantization", "int4"]),
                                                  containing: "--quantization must be int8 or fp8")
        GenerateCommandTests().expectOneLineError(try runShardline(["generate", "--model", model, "--prompt", "hi", "--dtype", "float8"]),
                                                  containing: "--dtype must be")
    }
}
