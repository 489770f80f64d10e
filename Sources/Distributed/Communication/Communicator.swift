import Foundation

/// Why a collective or a transfer failed. Every blocking wait can end in one of these, so a
/// dead or stuck peer never hangs the engine.
public enum CommunicatorError: Error, CustomStringConvertible, Equatable {
    case peerDied(rank: Int)
    case timedOut(rank: Int, seconds: Double)
    case setup(String)
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .peerDied(let rank): "worker rank \(rank) died"
        case .timedOut(let rank, let seconds): "no answer from worker rank \(rank) within \(Int(seconds)) s"
        case .setup(let reason): "could not connect the workers: \(reason)"
        case .protocolViolation(let reason): "workers disagree: \(reason)"
        }
    }
}

/// How ranks talk: point-to-point transfers plus the collectives tensor, pipeline and expert
/// parallelism need. Shared memory on one machine, Open MPI across machines; models and the
/// executor never know which.
///
/// `group` lists world ranks in a fixed order that every member passes identically. Reductions
/// sum in that order on every member, so all ranks of a group hold bit-identical results.
public protocol Communicator: AnyObject, Sendable {
    var rank: Int { get }
    var worldSize: Int { get }
    /// Sends bytes; returns once they are handed to the transport (the receiver may not have them yet).
    func send(_ bytes: UnsafeRawBufferPointer, to peer: Int) throws
    /// Receives exactly `bytes.count` bytes. `timeout` nil waits for as long as the peer lives.
    func receive(into bytes: UnsafeMutableRawBufferPointer, from peer: Int, timeout: Double?) throws
    /// The wait used when none is given: long enough for any honest step.
    var defaultTimeout: Double { get }
    /// A whole message (a batch, a report); the receiver learns its length.
    func sendMessage(_ message: [UInt8], to peer: Int) throws
    func receiveMessage(from peer: Int, timeout: Double?) throws -> [UInt8]

    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>, group: [Int]) throws
    /// Every member's `local` (same length on all), concatenated in group order, on every member.
    func allGather(_ local: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>, group: [Int]) throws
    /// Like allGather, but only `root` receives (the others pass an empty `out`).
    func gather(_ local: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>, root: Int, group: [Int]) throws
    /// `root`'s bytes land in every member's buffer (same length on all).
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int, group: [Int]) throws
    /// Chunk j of member i's `input` becomes chunk i of member j's `output` (equal chunks).
    func allToAll(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>, group: [Int]) throws
}

extension Communicator {
    public func receive(into bytes: UnsafeMutableRawBufferPointer, from peer: Int) throws {
        try receive(into: bytes, from: peer, timeout: defaultTimeout)
    }

    /// A length-prefixed message over a byte-stream transport.
    public func sendMessage(_ message: [UInt8], to peer: Int) throws {
        var framed = [UInt8](repeating: 0, count: 8 + message.count)
        framed.withUnsafeMutableBytes { p in
            p.storeBytes(of: UInt64(message.count).littleEndian, as: UInt64.self)
            p.baseAddress!.advanced(by: 8).copyMemory(from: message, byteCount: message.count)
        }
        try framed.withUnsafeBytes { (p) throws in try send(p, to: peer) }
    }

    public func receiveMessage(from peer: Int, timeout: Double?) throws -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 8)
        try header.withUnsafeMutableBytes { (p) throws in try receive(into: p, from: peer, timeout: timeout) }
        let count = Int(UInt64(littleEndian: header.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
        guard count < 1 << 34 else { throw CommunicatorError.protocolViolation("a message of \(count) bytes from rank \(peer)") }
        var message = [UInt8](repeating: 0, count: count)
        try message.withUnsafeMutableBytes { (p) throws in try receive(into: p, from: peer, timeout: timeout) }
        return message
    }

    public func receiveMessage(from peer: Int) throws -> [UInt8] {
        try receiveMessage(from: peer, timeout: defaultTimeout)
    }

    public func sendFloats(_ values: UnsafeBufferPointer<Float>, to peer: Int) throws {
        try send(UnsafeRawBufferPointer(values), to: peer)
    }

    public func receiveFloats(into values: UnsafeMutableBufferPointer<Float>, from peer: Int) throws {
        try receive(into: UnsafeMutableRawBufferPointer(values), from: peer)
    }
}
