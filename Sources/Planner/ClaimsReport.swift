import Foundation

/// Shardline's answer to one published claim (a row of `Catalog/claims.json`): our own figure,
/// computed with the planner's code, and whether the claim survives it.
public struct ClaimCheck: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        /// Inside the claim's range, or within 15% of a point claim.
        case agrees
        case disagrees
        /// The planner lacks what the claim needs; `why` says what.
        case cannotCheck = "cannot check"
    }

    public var id: String
    public var scenario: String
    public var claim: String
    /// Shardline's own figure, short, with units.
    public var ours: String
    public var verdict: Verdict
    /// The arithmetic or simulation behind `ours`; for a disagreement, the physics.
    public var why: String
}

/// The claims report (issue 7, part 4): one check per claim of `/work/shared/seed-figures.md`.
/// Each check recomputes the scenario from the catalog's shapes and datasheets with the planner's
/// own MemoryModel, LayoutEnumerator, CostModel and Simulator, so a change to any of them moves
/// the report with it; the claim's numbers are the only constants a check holds.
public enum ClaimsReport {
    /// A point claim agrees when our figure is within this share of it.
    static let tolerance = 0.15

    public static func run(catalog: Catalog = .builtIn) throws -> [ClaimCheck] {
        let kit = ClaimsKit(catalog: catalog)
        return try loadClaims().map { entry in
            let finding = try check(entry.id, kit)
            return ClaimCheck(id: entry.id, scenario: entry.scenario, claim: entry.claim,
                              ours: finding.ours, verdict: finding.verdict, why: finding.why)
        }
    }

    /// Routes a claim id to its check. An id without a check is a defect of this file, not a
    /// claim we cannot check, so it throws rather than printing a verdict nobody computed.
    static func check(_ id: String, _ k: ClaimsKit) throws -> Finding {
        switch id {
        case "M1": try m1(k)
        case "M2": try m2(k)
        case "M3": try m3(k)
        case "M4": try m4(k)
        case "M5": try m5(k)
        case "M6": try m6(k)
        case "M7": try m7(k)
        case "M8": try m8(k)
        case "M9": try m9(k)
        case "M10": try m10(k)
        case "M11": try m11(k)
        case "M12": try m12(k)
        case "M13": try m13(k)
        case "L1": try l1(k)
        case "L2": try l2(k)
        case "L3": try l3(k)
        case "C1": try c1(k)
        case "C2": try c2(k)
        case "C3": try c3(k)
        case "C4": try c4(k)
        case "C5": try c5(k)
        case "C6": try c6(k)
        case "T1": try t1(k)
        case "T2": try t2(k)
        case "T3": try t3(k)
        case "T4": try t4(k)
        case "T5": try t5(k)
        case "T6": try t6(k)
        case "T7": try t7(k)
        case "T8": try t8(k)
        case "T9": try t9(k)
        case "T10": try t10(k)
        default: throw PlannerError.invalidRequest("claims.json lists \(id), which ClaimsReport has no check for")
        }
    }

    /// A Markdown table, one row per check, in claims.json order.
    public static func table(_ checks: [ClaimCheck]) -> String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        var lines = ["| id | scenario | claim | ours | verdict | why |", "|---|---|---|---|---|---|"]
        for c in checks {
            lines.append("| " + [c.id, c.scenario, c.claim, c.ours, c.verdict.rawValue, c.why].map(cell).joined(separator: " | ") + " |")
        }
        let counts = [ClaimCheck.Verdict.agrees, .disagrees, .cannotCheck].map { v in "\(checks.filter { $0.verdict == v }.count) \(v.rawValue)" }
        lines.append("")
        lines.append("\(checks.count) claims: " + counts.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    // MARK: - Claims file

    /// The fields of a claims.json entry the report prints; the rest (inputs, notes) guided the checks.
    struct ClaimEntry: Decodable {
        var id: String
        var scenario: String
        var claim: String
    }

    static func loadClaims() throws -> [ClaimEntry] {
        guard let dir = Catalog.directory() else {
            throw PlannerError.invalidModelConfig("the planner's catalog (claims.json) is missing; copy Shardline_Planner.resources with the binary")
        }
        return try JSONDecoder().decode([ClaimEntry].self, from: Data(contentsOf: dir.appendingPathComponent("claims.json")))
    }

    // MARK: - Verdict rules (the seed file's)

    /// What one check computed, before the claim's text is attached.
    struct Finding {
        var ours: String
        var verdict: ClaimCheck.Verdict
        var why: String
    }

    static func point(_ ours: Double, _ claim: Double) -> ClaimCheck.Verdict {
        abs(ours - claim) <= tolerance * abs(claim) ? .agrees : .disagrees
    }

    static func range(_ ours: Double, _ low: Double, _ high: Double) -> ClaimCheck.Verdict {
        ours >= low && ours <= high ? .agrees : .disagrees
    }

    /// Counts and yes/no statements have no tolerance.
    static func exact(_ holds: Bool) -> ClaimCheck.Verdict { holds ? .agrees : .disagrees }

    /// A claim of several statements agrees only if each does; one wrong statement makes it wrong.
    static func all(_ verdicts: [ClaimCheck.Verdict]) -> ClaimCheck.Verdict {
        if verdicts.contains(.disagrees) { return .disagrees }
        if verdicts.contains(.cannotCheck) { return .cannotCheck }
        return .agrees
    }

    /// "+4.9%": our figure against the claim's.
    static func deviation(_ ours: Double, from claim: Double) -> String {
        let d = (ours - claim) / claim * 100
        return (d >= 0 ? "+" : "") + format(d, 1) + "%"
    }

    /// Words for a sub-verdict inside `why`.
    static func says(_ v: ClaimCheck.Verdict) -> String { v == .agrees ? "agrees" : "disagrees" }
}

/// Decimal gigabytes (1e9 B): how guides and `params × bytes` weight sizes are written.
func gb(_ bytes: Double, _ digits: Int = 1) -> String { "\(format(bytes / 1e9, digits)) GB" }

/// "70.55B" parameters.
func billions(_ params: Double) -> String { "\(format(params / 1e9, 2))B" }
