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

    @Option(name: .long, help: "(internal) attach to this segment as --rank.")
    var attach: String?

    @Option(name: .long, help: "(internal) this process's rank.")
    var rank = 0

    func run() throws {
        let byteSizes = try sizes.split(separator: ",").map { try parseBytes(String($0), flag: "--sizes") }
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
            _ = try CollectivesBenchmark.run(comm, sizes: byteSizes, iterations: iterations)
            return
        }
        guard ranks >= 2 else { throw CLIError("--ranks must be at least 2") }
        let name = "/shardline-bench-\(getpid())"
        let comm = try ShmCommunicator.create(name: name, worldSize: ranks)
        if ranks > ProcessInfo.processInfo.activeProcessorCount { comm.shareCores() }
        var children: [Process] = []
        for r in 1..<ranks {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
            p.arguments = ["bench-collectives", "--attach", name, "--rank", String(r), "--ranks", String(ranks), "--sizes", sizes,
                           "--iterations", String(iterations)]
            try p.run()
            comm.setPid(p.processIdentifier, of: r)
            children.append(p)
        }
        let rows = try CollectivesBenchmark.run(comm, sizes: byteSizes, iterations: iterations)
        children.forEach { $0.waitUntilExit() }
        print(CollectivesBenchmark.table(rows, backend: "shared memory", ranks: ranks))
    }
}
