import ArgumentParser
import Compute
import Foundation

@main
struct Shardline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shardline",
        abstract: "Shardline: an LLM inference and serving engine.",
        subcommands: [GenerateCommand.self, ServeCommand.self, RouterCommand.self, BenchModelCommand.self, BenchCommand.self,
                      TraceSummaryCommand.self, BenchCollectivesCommand.self, PlanCommand.self, SimulateCommand.self, CalibrateCommand.self, WorkerCommand.self])

    /// Environment knobs are checked before any command runs: a bad value would otherwise be
    /// ignored silently, deep in the compute layer.
    static func main() async {
        if let problem = ComputeEnvironment.problems().first {
            FileHandle.standardError.write(Data("Error: \(problem)\n".utf8))
            Foundation.exit(64)  // EX_USAGE, as ArgumentParser's own validation errors
        }
        await main(nil)
    }
}

/// A user-facing failure: ArgumentParser prints it as one `Error: …` line and exits non-zero.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
