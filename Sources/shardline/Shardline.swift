import ArgumentParser

@main
struct Shardline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shardline",
        abstract: "Shardline: an LLM inference and serving engine.",
        subcommands: [GenerateCommand.self, ServeCommand.self, BenchModelCommand.self, BenchCommand.self,
                      TraceSummaryCommand.self, BenchCollectivesCommand.self, PlanCommand.self, SimulateCommand.self, CalibrateCommand.self, WorkerCommand.self])
}

/// A user-facing failure: ArgumentParser prints it as one `Error: …` line and exits non-zero.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
