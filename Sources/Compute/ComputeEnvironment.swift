#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The environment variables that tune the compute layer. The pool and the prefetcher read them
/// where they start and fall back to their defaults on anything unusable; `problems` is the
/// startup check that turns a typo into an error naming the variable instead.
public enum ComputeEnvironment {
    /// One line per variable set to a value its reader would ignore.
    public static func problems() -> [String] {
        var found: [String] = []
        if let s = value("SHARDLINE_NUM_THREADS"), (Int(s) ?? 0) < 1 {
            found.append("SHARDLINE_NUM_THREADS must be a positive number of threads, got '\(s)'")
        }
        if let s = value("SHARDLINE_PREFETCH_BYTES"), (Int(s) ?? -1) < 0 {
            found.append("SHARDLINE_PREFETCH_BYTES must be a number of bytes (0 turns prefetching off), got '\(s)'")
        }
        return found
    }

    private static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
