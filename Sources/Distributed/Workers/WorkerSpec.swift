import Compute
import Engine
import Foundation

/// Everything a worker process needs to load its shard and join the group; passed as JSON on
/// its command line by the rank that starts it.
public struct WorkerSpec: Codable, Sendable {
    public var modelPath: String
    public var rank: Int
    public var parallel: ParallelConfig
    public var cache: CacheConfig
    public var maxNumBatchedTokens: Int
    public var maxModelLen: Int
    /// Shared-memory segments: engine ↔ workers, and device ↔ device.
    public var controlSegment: String
    public var dataSegment: String
    public var parentPid: Int32
    public var tracing: Bool
    public var format: WeightFormat

    public var scheduler: SchedulerConfig {
        var s = SchedulerConfig()
        s.maxNumBatchedTokens = maxNumBatchedTokens
        s.maxModelLen = maxModelLen
        s.blockSize = cache.blockSize
        return s
    }
}

/// A worker's answer once its shard is loaded: what it holds, or why it could not start.
struct WorkerReport: Codable {
    var rank: Int
    var description: String
    var numBlocks: Int
    var error: String?
}
