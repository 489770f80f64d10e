import Foundation
import Testing
@testable import Planner

@Suite struct ClaimsReportTests {
    /// The report runs a few dozen simulations; compute it once for every test.
    static let checks: [ClaimCheck] = {
        do { return try ClaimsReport.run(catalog: .builtIn) } catch { fatalError("claims report failed: \(error)") }
    }()

    func check(_ id: String) throws -> ClaimCheck { try #require(Self.checks.first { $0.id == id }) }

    @Test func everyClaimGetsExactlyOneCheck() throws {
        let ids = try ClaimsReport.loadClaims().map(\.id)
        #expect(ids.count == 32)
        #expect(Self.checks.map(\.id) == ids)
        #expect(Set(Self.checks.map(\.id)).count == Self.checks.count)
        for c in Self.checks {
            #expect(!c.ours.isEmpty && !c.why.isEmpty, "\(c.id)")
        }
    }

    @Test func m1AgreesAt141GB() throws {
        let m1 = try check("M1")
        #expect(m1.verdict == .agrees)
        #expect(m1.ours.hasPrefix("141."), "\(m1.ours)")
    }

    @Test func m3Disagrees140GBDoesNotFit96GB() throws {
        let m3 = try check("M3")
        #expect(m3.verdict == .disagrees)
        #expect(m3.ours.contains("141.1 GB weights"), "\(m3.ours)")
    }

    @Test func c5ResolvesBothStatements() throws {
        let c5 = try check("C5")
        // Guide C's 64/128 is right; guide A's "64 GB/s bidirectional" is one direction only.
        #expect(c5.verdict == .disagrees)
        #expect(c5.why.contains("Guide C (64 per direction, 128 both) agrees"), "\(c5.why)")
        #expect(c5.why.contains("guide A (\"64 GB/s bidirectional\") disagrees"), "\(c5.why)")
        #expect(c5.ours.contains("63.0 GB/s per direction"))
    }

    @Test func verdictsAreNotAllTheSame() {
        let verdicts = Set(Self.checks.map(\.verdict))
        #expect(verdicts == [.agrees, .disagrees], "\(verdicts)")
    }

    @Test func t10RoutesAgentsOnTheirSystemPrompts() throws {
        // Multi-replica simulation: prefix-aware routing beats round-robin in every cell, more
        // under heavier cache pressure, and reaches the guide's 2× at DP=4.
        let t10 = try check("T10")
        #expect(t10.verdict == .agrees, "\(t10.why)")
        let ratios = t10.ours.split(separator: "–").map { Double($0.filter { $0.isNumber || $0 == "." })! }
        #expect(ratios.count == 2 && ratios[0] > 1.2 && ratios[1] >= 1.7, "\(t10.ours)")
        #expect(t10.why.contains("DP=4, 22 system prompts"), "\(t10.why)")
    }

    @Test func knownPhysics() throws {
        // Wrong on purpose in the seed file: PCIe "bidirectional" figures and a 2× PP payload.
        #expect(try check("C6").verdict == .disagrees)
        #expect(try check("C4").verdict == .disagrees)
        // 70B FP16 on 2 H100s cannot stream 80 tok/s per request: 70 GB per GPU per token.
        #expect(try check("T8").verdict == .disagrees)
        #expect(try check("M9").verdict == .agrees)
        #expect(try check("L1").verdict == .agrees)
    }

    @Test func tableListsEveryId() throws {
        let table = ClaimsReport.table(Self.checks)
        for c in Self.checks {
            #expect(table.contains("| \(c.id) | "), "\(c.id)")
        }
        #expect(table.components(separatedBy: "\n").count == Self.checks.count + 4)
        // Printed so `swift test` output carries the report; SHARDLINE_CLAIMS_OUT also writes it to a file.
        print(table)
        if let path = ProcessInfo.processInfo.environment["SHARDLINE_CLAIMS_OUT"] {
            try table.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }
}
