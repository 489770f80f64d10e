import Foundation
import Testing

/// `shardline bench-collectives` as a user runs it: shared-memory ranks started by the command.
@Suite struct BenchCollectivesCommandTests {
    @Test func handoffPrintsOneTimedRow() throws {
        let result = try runShardline(["bench-collectives", "--measure", "handoff", "--iterations", "20"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("pipeline hand-off to a parked receiver") && !result.stdout.contains("all-reduce"), "\(result.stdout)")
    }

    @Test func anUnknownMeasureIsOneLineNamingTheFlag() throws {
        let result = try runShardline(["bench-collectives", "--measure", "latency"])
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("--measure"), "\(result.stderr)")
    }
}
