import Foundation

/// This machine as a device, measured with Shardline's own kernels: what the planner's cost
/// model needs (memory bandwidth, dense matmul throughput) to simulate the CPU engine.
public struct DeviceProfile: Sendable, Codable {
    public var threads: Int
    public var memoryBytes: Int
    /// STREAM-like read, bytes/s.
    public var readBandwidth: Double
    /// f32 GEMM through OpenBLAS slices on the pool, FLOP/s (the dtype our activations use).
    public var f32MatmulFLOPS: Double
    /// Int8 per-channel weights (`--quantization int8`), widened in tiles, OP/s.
    public var int8MatmulOPS: Double

    /// Takes a few seconds: a 1 GiB read, then 2048×2048 weights against 256 rows.
    public static func measure(memoryBytes: Int, pool: ThreadPool = .shared) -> DeviceProfile {
        let bandwidth = MemoryBandwidth.measureRead(bytes: 1 << 30, runs: 3, pool: pool)
        let (n, k, m) = (2048, 2048, 256)
        var seed: UInt64 = 0x9E37_79B9
        let weight = Tensor(shape: [n, k], values: (0..<(n * k)).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: seed >> 11) % 1000) / 1000
        })
        let x = Tensor(shape: [m, k], values: (0..<(m * k)).map { Float($0 % 7) / 7 })
        let operations = 2.0 * Double(m * n * k)
        func best(_ layer: any LinearLayer) -> Double {
            _ = layer(x, pool: pool)
            var fastest = Double.infinity
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = layer(x, pool: pool)
                fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return operations / fastest
        }
        return DeviceProfile(threads: pool.threadCount, memoryBytes: memoryBytes, readBandwidth: bandwidth,
                             f32MatmulFLOPS: best(Linear(weight: weight)), int8MatmulOPS: best(WeightFormat.int8.linear(weight: weight)))
    }
}
