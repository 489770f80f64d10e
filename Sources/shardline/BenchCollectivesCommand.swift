import ArgumentParser
import Distributed
import Foundation

/// All-reduce latency of the two transports: shared memory between processes started here,
/// or Open MPI when run under `mpirun -np N shardline bench-collectives`.
struct BenchCollectivesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-collectives", abstract: "Measure all-reduce latency over shared memory (or Open MPI under mpirun).")

    @Option(name: .long, help: "Ranks (processes) for the shared-memory run.")
    var ranks = 2

    @Option(name: .long, help: "Message sizes, e.g. 8KiB,1MiB.")
    var sizes = "8KiB,1MiB"

    @Option(name: .long, help: "Timed all-reduces per size.")
    var iterations = 1000

    @Option(name: .long, help: "What to time: all-reduce, handoff (a pipeline hand-off to a parked receiver), or both, comma-separated.")
    var measure = "all-reduce,handoff"

    @Option(name: .long, help: "(internal) attach to this segment as --rank.")
    var attach: String?

    @Option(name: .long, help: "(internal) this process's rank.")
    var rank = 0

    func run() throws {
        let byteSizes = try sizes.split(separator: ",").map { try parseBytes(String($0), flag: "--sizes") }
        let what = Set(measure.split(separator: ",").map(String.init))
        guard !what.isEmpty, what.isSubset(of: ["all-reduce", "handoff"]) else {
            throw CLIError("--measure must be all-reduce, handoff, or both (comma-separated), not \(measure)")
        }
        if let mpi = MpiCommunicator.launch, mpi.size > 1 {
            let comm = try MpiCommunicator()
            let rows = try CollectivesBenchmark.run(comm, sizes: byteSizes, iterations: iterations)
            comm.drain()
            if comm.rank == 0 { print(CollectivesBenchmark.table(rows, backend: "Open MPI", ranks: comm.worldSize)) }
            MpiCommunicator.finalize()
            return
        }
        if let attach {
            let comm = try ShmCommunicator.attach(name: attach, rank: rank)
            if ranks > ProcessInfo.processInfo.activeProcessorCount { comm.shareCores() }
            if what.contains("all-reduce") { _ = try CollectivesBenchmark.run(comm, sizes: byteSizes, iterations: iterations) }
            if what.contains("handoff") { _ = try CollectivesBenchmark.parkedHandoff(comm, iterations: Self.handoffRounds(iterations)) }
            return
        }
        guard ranks >= 2 else { throw CLIError("--ranks must be at least 2") }
        let (comm, children) = try Self.startGroup(ranks: ranks, arguments: ["--sizes", sizes, "--iterations", String(iterations), "--measure", measure])
        defer { children.forEach { $0.waitUntilExit() }; comm.unlinkName() }
        if what.contains("all-reduce") {
            print(CollectivesBenchmark.table(try CollectivesBenchmark.run(comm, sizes: byteSizes, iterations: iterations),
                                             backend: "shared memory", ranks: ranks))
        }
        if what.contains("handoff"), let hop = try CollectivesBenchmark.parkedHandoff(comm, iterations: Self.handoffRounds(iterations)) {
            print(String(format: "pipeline hand-off to a parked receiver, shared memory: min / median / max µs\n%10@  %8.1f  %8.1f  %8.1f",
                         "8 KiB" as NSString, hop.min, hop.median, hop.max))
        }
    }

    /// Each hand-off round computes 4 ms, so fewer rounds than all-reduces.
    static func handoffRounds(_ iterations: Int) -> Int { max(20, min(iterations, 200)) }

    /// A shared-memory segment and `ranks − 1` attached `bench-collectives` processes (unlink
    /// the segment's name once they have exited).
    static func startGroup(ranks: Int, arguments: [String]) throws -> (ShmCommunicator, [Process]) {
        let name = "/shardline-bench-\(getpid())"
        let comm = try ShmCommunicator.create(name: name, worldSize: ranks)
        if ranks > ProcessInfo.processInfo.activeProcessorCount { comm.shareCores() }
        var children: [Process] = []
        for r in 1..<ranks {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
            p.arguments = ["bench-collectives", "--attach", name, "--rank", String(r), "--ranks", String(ranks)] + arguments
            try p.run()
            comm.setPid(p.processIdentifier, of: r)
            children.append(p)
        }
        return (comm, children)
    }

    /// The median one-way hand-off (seconds) between two processes of this machine, each
    /// parked while the other computes: what a pipeline stage boundary costs here.
    static func measureHandoff(rounds: Int = 100) throws -> Double {
        let (comm, children) = try startGroup(ranks: 2, arguments: ["--measure", "handoff", "--iterations", String(rounds)])
        defer { children.forEach { $0.waitUntilExit() }; comm.unlinkName() }
        guard let hop = try CollectivesBenchmark.parkedHandoff(comm, iterations: handoffRounds(rounds)) else {
            throw CLIError("hand-off measurement failed")
        }
        return hop.median / 1e6
    }
}
