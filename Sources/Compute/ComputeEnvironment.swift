#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The environment variables that tune the compute layer, parsed in one place: the pool and the
/// prefetcher take `value` (nil: unset or unusable, so their default), and `problems` is the
/// startup check that turns an unusable value into an error naming the variable.
public enum ComputeEnvironment {
    struct Knob {
        let name: String
        let minimum: Int
        /// What a usable value is, for the error.
        let meaning: String

        /// The variable's value when it is set to a whole number of at least `minimum`.
        var value: Int? { raw.flatMap { Int($0) }.flatMap { $0 >= minimum ? $0 : nil } }

        var raw: String? { getenv(name).map { String(cString: $0) } }
    }

    static let threads = Knob(name: "SHARDLINE_NUM_THREADS", minimum: 1, meaning: "a positive number of threads")
    static let prefetchBytes = Knob(name: "SHARDLINE_PREFETCH_BYTES", minimum: 0,
                                    meaning: "a number of bytes (0 turns prefetching off)")

    /// One line per variable set to a value its reader would ignore.
    public static func problems() -> [String] {
        [threads, prefetchBytes].compactMap { knob in
            guard let raw = knob.raw, knob.value == nil else { return nil }
            return "\(knob.name) must be \(knob.meaning), got '\(raw)'"
        }
    }
}
