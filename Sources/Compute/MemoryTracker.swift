import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Bytes of tensor storage: live and peak for the process, and a per-thread scope for measuring
/// one computation's peak (the engine sizes its KV cache from a model's activation peak, and
/// other threads' allocations must not leak into that reading).
public enum MemoryTracker {
    private static let live = Atomic<Int>(0)

    public static var liveBytes: Int { live.load(ordering: .relaxed) }

    /// Peak bytes of tensor storage allocated by the calling thread while `body` runs, above
    /// what it held at the start (storage created before `body` does not count).
    public static func measurePeak(_ body: () -> Void) -> Int {
        let scope = Scope()
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged.passUnretained(scope).toOpaque())
        body()
        pthread_setspecific(key, previous)
        return scope.peak
    }

    static func allocated(_ bytes: Int) {
        live.add(bytes, ordering: .relaxed)
        if let scope = currentScope {
            scope.live += bytes
            scope.peak = max(scope.peak, scope.live)
        }
    }

    static func released(_ bytes: Int) {
        live.subtract(bytes, ordering: .relaxed)
        currentScope?.live -= bytes
    }

    /// Only ever touched by the thread it is installed on.
    private final class Scope {
        var live = 0
        var peak = 0
    }

    nonisolated(unsafe) private static var key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    private static var currentScope: Scope? {
        pthread_getspecific(key).map { Unmanaged<Scope>.fromOpaque($0).takeUnretainedValue() }
    }
}
