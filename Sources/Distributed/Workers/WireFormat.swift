import Engine
import Foundation

/// A compact little-endian encoding for what crosses a process boundary every step: the
/// scheduler's batch out, the sampled tokens back. (JSON only for a new request's sampling
/// parameters, which cross once per request.)
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func int32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func float(_ v: Float) { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    mutating func data(_ d: [UInt8]) { int(d.count); bytes += d }
    mutating func string(_ s: String) { data(Array(s.utf8)) }
    mutating func ints(_ a: [Int]) { int(a.count); for v in a { int(v) } }
    mutating func int32s(_ a: [Int32]) { int(a.count); for v in a { int32(v) } }
}

struct ByteReader {
    let bytes: [UInt8]
    var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, at + n <= bytes.count else { throw CommunicatorError.protocolViolation("a message ended early") }
        defer { at += n }
        return bytes[at..<(at + n)]
    }

    mutating func int() throws -> Int {
        Int(Int64(littleEndian: try take(8).withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }))
    }
    mutating func int32() throws -> Int32 { Int32(littleEndian: try take(4).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }) }
    mutating func float() throws -> Float { Float(bitPattern: UInt32(littleEndian: try take(4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })) }
    mutating func bool() throws -> Bool { try take(1).first! != 0 }
    mutating func data() throws -> [UInt8] { Array(try take(try count())) }
    mutating func string() throws -> String { String(decoding: try data(), as: UTF8.self) }
    mutating func ints() throws -> [Int] { try (0..<(try count())).map { _ in try int() } }
    mutating func int32s() throws -> [Int32] { try (0..<(try count())).map { _ in try int32() } }

    private mutating func count() throws -> Int {
        let n = try int()
        guard n >= 0, n <= bytes.count - at else { throw CommunicatorError.protocolViolation("a count of \(n) in a message of \(bytes.count) bytes") }
        return n
    }
}

/// What rank 0 sends every worker.
enum ControlMessage {
    case step(SchedulerOutput)
    case shutdown

    func encoded() throws -> [UInt8] {
        var w = ByteWriter()
        switch self {
        case .shutdown:
            w.int(0)
        case .step(let batch):
            w.int(1)
            w.int(batch.stepId)
            w.int(batch.numPreemptions)
            w.int(batch.releasedRequestIds.count)
            for id in batch.releasedRequestIds { w.string(id) }
            w.int(batch.requests.count)
            for r in batch.requests {
                w.string(r.id)
                w.int(r.numTokens)
                w.int(r.startPosition)
                w.bool(r.samples)
                w.ints(r.tokenIds)
                w.int32s(r.blockTable)
                w.bool(r.newRequest != nil)
                if let new = r.newRequest { w.data(Array(try JSONEncoder().encode(new))) }
            }
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> ControlMessage {
        var r = ByteReader(bytes)
        switch try r.int() {
        case 0: return .shutdown
        case 1:
            let stepId = try r.int(), preemptions = try r.int()
            let released = try (0..<(try r.int())).map { _ in try r.string() }
            var requests: [ScheduledRequest] = []
            for _ in 0..<(try r.int()) {
                let id = try r.string(), numTokens = try r.int(), start = try r.int(), samples = try r.bool()
                let tokens = try r.ints(), table = try r.int32s()
                let new = try r.bool() ? try JSONDecoder().decode(NewRequestData.self, from: Data(try r.data())) : nil
                requests.append(ScheduledRequest(id: id, newRequest: new, numTokens: numTokens, startPosition: start,
                                                 tokenIds: tokens, blockTable: table, samples: samples))
            }
            return .step(SchedulerOutput(stepId: stepId, requests: requests, releasedRequestIds: released, numPreemptions: preemptions))
        case let kind:
            throw CommunicatorError.protocolViolation("unknown control message \(kind)")
        }
    }
}

extension ModelRunnerOutput {
    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.int(sampled.count)
        for (id, token) in sampled {
            w.string(id)
            w.int(token.tokenId)
            w.bool(token.logprob != nil)
            w.float(token.logprob ?? 0)
            w.int(token.topLogprobs.count)
            for t in token.topLogprobs { w.int(t.tokenId); w.float(t.logprob) }
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> ModelRunnerOutput {
        var r = ByteReader(bytes)
        var sampled: [RequestID: SampledToken] = [:]
        for _ in 0..<(try r.int()) {
            let id = try r.string(), tokenId = try r.int(), hasLogprob = try r.bool(), logprob = try r.float()
            let top = try (0..<(try r.int())).map { _ in TokenLogprob(tokenId: try r.int(), logprob: try r.float()) }
            sampled[id] = SampledToken(tokenId: tokenId, logprob: hasLogprob ? logprob : nil, topLogprobs: top)
        }
        return ModelRunnerOutput(sampled: sampled)
    }
}
