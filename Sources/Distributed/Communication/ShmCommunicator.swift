import Foundation
import ShardlineIPC
#if canImport(Glibc)
import Glibc
#endif

/// Ranks on one machine, talking through one shared-memory segment (`shm_open` + `mmap`): a
/// single-producer/single-consumer byte ring for every ordered pair of ranks. Waits spin
/// briefly (a tensor-parallel all-reduce answers within microseconds), then sleep on a futex
/// so an idle worker costs nothing, checking every 50 ms that the peer process still lives.
public final class ShmCommunicator: PointToPointCollectives, @unchecked Sendable {
    public let rank: Int
    public let worldSize: Int
    public let name: String
    public var defaultTimeout: Double
    public let chunkFloats: Int
    /// How long a wait spins before sleeping. Short when ranks outnumber cores.
    public var spinNanoseconds: UInt64
    /// How long it then yields the core before sleeping: long when ranks outnumber cores.
    public var yieldNanoseconds: UInt64 = 0

    private let base: UnsafeMutableRawPointer
    private let size: Int
    private let ringStride: Int
    private let owner: Bool

    static let magic: UInt64 = 0x5348_4152_444C_4E31  // "SHARDLN1"
    static let headerBytes = 4096
    static let maxWorld = 256
    private static let pidsOffset = 64

    /// Rank 0 creates the segment before starting the others.
    public static func create(name: String, worldSize: Int, ringCapacity: Int = 2 << 20) throws -> ShmCommunicator {
        guard worldSize >= 1 && worldSize <= maxWorld else { throw CommunicatorError.setup("world size \(worldSize) is outside 1...\(maxWorld)") }
        let stride = Self.ringStride(capacity: ringCapacity)
        let size = headerBytes + worldSize * worldSize * stride
        var base: UnsafeMutableRawPointer?
        let err = sl_shm_create(name, size, &base)
        guard err == 0, let base else { throw CommunicatorError.setup("shm_open(\(name)): \(String(cString: strerror(err)))") }
        base.storeBytes(of: UInt64(worldSize), toByteOffset: 8, as: UInt64.self)
        base.storeBytes(of: UInt64(ringCapacity), toByteOffset: 16, as: UInt64.self)
        base.storeBytes(of: UInt64(stride), toByteOffset: 24, as: UInt64.self)
        for i in 0..<(worldSize * worldSize) {
            sl_ring_init((base + headerBytes + i * stride).assumingMemoryBound(to: sl_ring.self), UInt64(ringCapacity))
        }
        // Published last: a rank that sees the magic sees initialised rings.
        (base).storeBytes(of: magic, as: UInt64.self)
        return ShmCommunicator(rank: 0, base: base, size: size, owner: true, name: name)
    }

    /// Every other rank attaches to the segment rank 0 named.
    public static func attach(name: String, rank: Int) throws -> ShmCommunicator {
        var base: UnsafeMutableRawPointer?
        var size = 0
        let err = sl_shm_open(name, &base, &size)
        guard err == 0, let base else { throw CommunicatorError.setup("shm_open(\(name)): \(String(cString: strerror(err)))") }
        guard size >= headerBytes, base.load(as: UInt64.self) == magic else {
            sl_shm_unmap(base, size)
            throw CommunicatorError.setup("\(name) is not a Shardline segment")
        }
        let world = Int(base.load(fromByteOffset: 8, as: UInt64.self))
        guard rank > 0 && rank < world else {
            sl_shm_unmap(base, size)
            throw CommunicatorError.setup("rank \(rank) is outside the world of \(world)")
        }
        return ShmCommunicator(rank: rank, base: base, size: size, owner: false, name: name)
    }

    private init(rank: Int, base: UnsafeMutableRawPointer, size: Int, owner: Bool, name: String) {
        self.rank = rank
        self.base = base
        self.size = size
        self.owner = owner
        self.name = name
        worldSize = Int(base.load(fromByteOffset: 8, as: UInt64.self))
        let capacity = Int(base.load(fromByteOffset: 16, as: UInt64.self))
        ringStride = Int(base.load(fromByteOffset: 24, as: UInt64.self))
        chunkFloats = capacity / 2 / MemoryLayout<Float>.size
        defaultTimeout = 600
        spinNanoseconds = 250_000  // longer than a futex wake-up on a VM (~100 µs), so ranks in step never sleep
        setPid(getpid(), of: rank)
    }

    /// Waits tuned for more ranks than cores: a short spin, then yield the core (the rank we wait
    /// for may be the one waiting for it) before sleeping.
    public func shareCores() {
        spinNanoseconds = 2_000
        yieldNanoseconds = 1_000_000
    }

    deinit {
        sl_shm_unmap(base, size)
        if owner { _ = sl_shm_unlink(name) }
    }

    /// Removes the name early (the mapping stays valid): once every rank has attached, nothing
    /// is left behind in /dev/shm even if the process is killed.
    public func unlinkName() { _ = sl_shm_unlink(name) }

    /// Records the process behind a rank, so waits on it notice when it dies.
    public func setPid(_ pid: pid_t, of rank: Int) {
        pidSlot(rank).pointee = pid
    }

    private func pidSlot(_ rank: Int) -> UnsafeMutablePointer<Int32> {
        (base + Self.pidsOffset + 4 * rank).assumingMemoryBound(to: Int32.self)
    }

    private static func ringStride(capacity: Int) -> Int {
        let raw = MemoryLayout<sl_ring>.size + capacity
        return (raw + 4095) / 4096 * 4096
    }

    private func ring(from src: Int, to dst: Int) -> UnsafeMutablePointer<sl_ring> {
        (base + Self.headerBytes + (src * worldSize + dst) * ringStride).assumingMemoryBound(to: sl_ring.self)
    }

    public func send(_ bytes: UnsafeRawBufferPointer, to peer: Int) throws {
        precondition(peer != rank && peer >= 0 && peer < worldSize, "send to rank \(peer) from \(rank)")
        let r = ring(from: rank, to: peer)
        var done = 0
        let deadline = (Self.now() + UInt64(defaultTimeout * 1e9), defaultTimeout)
        while done < bytes.count {
            let seen = sl_ring_space_seq(r)
            let n = sl_ring_write_some(r, bytes.baseAddress! + done, bytes.count - done)
            if n > 0 { done += n; continue }
            try wait(peer: peer, deadline: deadline) { sl_ring_space_seq(r) != seen } sleep: { sl_ring_wait_space(r, seen, $0) }
        }
    }

    public func receive(into bytes: UnsafeMutableRawBufferPointer, from peer: Int, timeout: Double?) throws {
        precondition(peer != rank && peer >= 0 && peer < worldSize, "receive from rank \(peer) at \(rank)")
        let r = ring(from: peer, to: rank)
        var done = 0
        let deadline = timeout.map { (Self.now() + UInt64($0 * 1e9), $0) }
        while done < bytes.count {
            let seen = sl_ring_seq(r)
            let n = sl_ring_read_some(r, bytes.baseAddress! + done, bytes.count - done)
            if n > 0 { done += n; continue }
            try wait(peer: peer, deadline: deadline) { sl_ring_seq(r) != seen } sleep: { sl_ring_wait_data(r, seen, $0) }
        }
    }

    /// Spins, then sleeps in 50 ms slices until `ready`, checking the peer and the deadline.
    private func wait(peer: Int, deadline: (at: UInt64, seconds: Double)?, ready: () -> Bool, sleep: (Int64) -> Void) throws {
        let spinUntil = Self.now() + spinNanoseconds
        var spins = 0
        while true {
            if ready() { return }
            spins += 1
            if spins & 63 == 0 && Self.now() > spinUntil { break }
            sl_cpu_pause()
        }
        // Then yield for a while: when ranks outnumber cores, the peer we wait for may be the
        // process waiting for this core, and a futex sleep would add a wake-up to every hop.
        let yieldUntil = Self.now() + yieldNanoseconds
        while Self.now() < yieldUntil {
            if ready() { return }
            sched_yield()
        }
        while !ready() {
            sleep(50_000_000)
            if ready() { return }
            let pid = pidSlot(peer).pointee
            if pid > 0 && sl_process_alive(pid) == 0 { throw CommunicatorError.peerDied(rank: peer) }
            if let deadline, Self.now() > deadline.at { throw CommunicatorError.timedOut(rank: peer, seconds: deadline.seconds) }
        }
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
