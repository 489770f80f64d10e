import COpenMPI
import Foundation

/// Ranks started by `mpirun` (Open MPI), possibly on several machines. Each instance is its own
/// duplicate of MPI_COMM_WORLD, so the engine's control traffic and the devices' data traffic
/// never match each other's messages, and two threads can use two instances at once
/// (MPI_THREAD_MULTIPLE). Sends are buffered and non-blocking (a collective's members all send
/// before they receive); receives poll so every wait has a timeout.
///
/// A rank that dies ends the whole job: that is mpirun's rule, and it kills the others.
public final class MpiCommunicator: PointToPointCollectives, @unchecked Sendable {
    public let rank: Int
    public let worldSize: Int
    public var defaultTimeout: Double = 600
    public let chunkFloats = 1 << 18
    private var comm: MPI_Comm?
    private let lock = NSLock()
    private var pendingSends: [(request: MPI_Request?, buffer: UnsafeMutableRawPointer)] = []

    /// The rank and size mpirun gave this process, when it started it.
    public static var launch: (rank: Int, size: Int, localSize: Int)? {
        let env = ProcessInfo.processInfo.environment
        guard let rank = env["OMPI_COMM_WORLD_RANK"].flatMap(Int.init), let size = env["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init) else { return nil }
        return (rank, size, env["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? size)
    }

    nonisolated(unsafe) private static var initialized = false

    /// Initialises MPI once per process (thread-multiple) and duplicates the world communicator.
    /// Collective: every rank creates its communicators in the same order.
    public init() throws {
        if !Self.initialized {
            var provided: Int32 = 0
            guard MPI_Init_thread(nil, nil, sl_mpi_thread_multiple(), &provided) == sl_mpi_success() else {
                throw CommunicatorError.setup("MPI_Init_thread failed")
            }
            guard provided >= sl_mpi_thread_multiple() else {
                throw CommunicatorError.setup("this Open MPI does not provide MPI_THREAD_MULTIPLE")
            }
            Self.initialized = true
        }
        var dup: MPI_Comm?
        guard MPI_Comm_dup(sl_mpi_comm_world(), &dup) == sl_mpi_success() else { throw CommunicatorError.setup("MPI_Comm_dup failed") }
        comm = dup
        var r: Int32 = 0, n: Int32 = 0
        MPI_Comm_rank(dup, &r)
        MPI_Comm_size(dup, &n)
        rank = Int(r)
        worldSize = Int(n)
    }

    /// Ends MPI for this process (after the last communicator is done).
    public static func finalize() {
        guard initialized else { return }
        initialized = false
        MPI_Finalize()
    }

    public func send(_ bytes: UnsafeRawBufferPointer, to peer: Int) throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if bytes.count > 0 { buffer.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        guard bytes.count <= Int(Int32.max) else { throw CommunicatorError.protocolViolation("a single MPI message of \(bytes.count) bytes") }
        var request: MPI_Request?
        guard MPI_Isend(buffer, Int32(bytes.count), sl_mpi_byte(), Int32(peer), 0, comm, &request) == sl_mpi_success() else {
            buffer.deallocate()
            throw CommunicatorError.peerDied(rank: peer)
        }
        lock.lock()
        pendingSends.append((request, buffer))
        reapSends()
        lock.unlock()
    }

    /// Frees the buffers of sends that completed. Under the lock.
    private func reapSends() {
        pendingSends.removeAll { entry in
            var request = entry.request
            var done: Int32 = 0
            MPI_Test(&request, &done, sl_mpi_status_ignore())
            if done != 0 { entry.buffer.deallocate() }
            return done != 0
        }
    }

    public func receive(into bytes: UnsafeMutableRawBufferPointer, from peer: Int, timeout: Double?) throws {
        var request: MPI_Request?
        MPI_Irecv(bytes.baseAddress, Int32(bytes.count), sl_mpi_byte(), Int32(peer), 0, comm, &request)
        var status = MPI_Status()
        try poll(peer: peer, timeout: timeout) {
            var done: Int32 = 0
            MPI_Test(&request, &done, &status)
            return done != 0
        } onTimeout: {
            MPI_Cancel(&request)
            MPI_Wait(&request, sl_mpi_status_ignore())
        }
        var count: Int32 = 0
        MPI_Get_count(&status, sl_mpi_byte(), &count)
        guard Int(count) == bytes.count else {
            throw CommunicatorError.protocolViolation("expected \(bytes.count) bytes from rank \(peer), got \(count)")
        }
    }

    /// A whole-world reduction goes to MPI_Allreduce (its shared-memory and network algorithms);
    /// a subgroup (one stage's tensor-parallel ranks) uses the point-to-point exchange.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>, group: [Int]) throws {
        guard group.count == worldSize, group == Array(0..<worldSize), values.count <= Int(Int32.max) else {
            return try allReduceByExchange(values, group: group)
        }
        lock.lock()
        reapSends()
        lock.unlock()
        guard MPI_Allreduce(sl_mpi_in_place(), values.baseAddress, Int32(values.count), sl_mpi_float(), sl_mpi_sum(), comm) == sl_mpi_success() else {
            throw CommunicatorError.protocolViolation("MPI_Allreduce failed")
        }
    }

    public func sendMessage(_ message: [UInt8], to peer: Int) throws {
        try message.withUnsafeBytes { try send($0, to: peer) }
    }

    public func receiveMessage(from peer: Int, timeout: Double?) throws -> [UInt8] {
        var count: Int32 = 0
        try poll(peer: peer, timeout: timeout) { sl_mpi_iprobe_bytes(Int32(peer), 0, comm, &count) != 0 } onTimeout: {}
        var message = [UInt8](repeating: 0, count: Int(count))
        try message.withUnsafeMutableBytes { try receive(into: $0, from: peer, timeout: timeout) }
        return message
    }

    /// Spins briefly (a tensor-parallel answer comes within microseconds), then sleeps in growing
    /// steps up to a millisecond, until `ready` or the timeout.
    private func poll(peer: Int, timeout: Double?, ready: () -> Bool, onTimeout: () -> Void) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        var pause: UInt32 = 0
        while !ready() {
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            if let timeout, Double(elapsed) / 1e9 > timeout {
                onTimeout()
                throw CommunicatorError.timedOut(rank: peer, seconds: timeout)
            }
            if elapsed > 50_000 {
                usleep(pause)
                pause = min(1000, max(20, pause * 2))
            }
        }
        lock.lock()
        reapSends()
        lock.unlock()
    }

    /// Completes every send still in flight (before MPI_Finalize).
    public func drain() {
        lock.lock()
        for entry in pendingSends {
            var request = entry.request
            if Self.initialized { MPI_Wait(&request, sl_mpi_status_ignore()) }
            entry.buffer.deallocate()
        }
        pendingSends.removeAll()
        lock.unlock()
    }

    deinit { drain() }
}
