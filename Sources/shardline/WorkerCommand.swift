import ArgumentParser
import Distributed
import Foundation

/// A device's process, started by rank 0 of `generate`/`serve` with `-tp`/`-pp`; not for people.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run one device of a tensor/pipeline-parallel group (started by serve and generate).",
        shouldDisplay: false)

    @Option(name: .long, help: "The worker's spec, JSON.")
    var spec: String

    func run() throws {
        guard let data = spec.data(using: .utf8), let parsed = try? JSONDecoder().decode(WorkerSpec.self, from: data) else {
            throw CLIError("--spec is not a worker spec")
        }
        let code = Worker.run(spec: parsed)
        if code != 0 { throw ExitCode(code) }
    }
}

/// Per-stage busy time of a trace written with --trace-file.
struct TraceSummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace-summary", abstract: "Per-stage busy % over the steady state of a --trace-file trace.")

    @Argument(help: "A trace written by --trace-file.")
    var file: String

    func run() throws {
        do { print(ChromeTrace.summaryText(try ChromeTrace.read(file))) } catch { throw CLIError("\(error)") }
    }
}
