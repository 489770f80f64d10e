import Compute
import Foundation

/// A measured `DeviceProfile` written as one `gpus.json` entry, so `plan`/`simulate --gpu-file`
/// cost this machine with the same model as any catalog GPU. Our activations are f32, so the f32
/// matmul rate stands in for the 16-bit one; pcie_gen 0 marks devices that share host memory.
enum DeviceProfileSpec {
    /// `devicesPerHost` workers share the host evenly: each device is that share of it (they
    /// share one memory bus and the cores, which a GPU-style "one more device, twice the
    /// bandwidth" model would otherwise miss).
    static func json(_ p: DeviceProfile, devicesPerHost: Int) throws -> String {
        let host = ProcessInfo.processInfo.hostName, share = Double(devicesPerHost)
        let spec: [String: Any] = [
            "id": "cpu-\(host)" + (devicesPerHost > 1 ? "-1of\(devicesPerHost)" : ""),
            "name": "CPU of \(host), \(p.threads) threads (measured)" + (devicesPerHost > 1 ? ", one of \(devicesPerHost) devices" : ""),
            "memory_bytes_nominal": p.memoryBytes / devicesPerHost,
            "memory_gib": Double(p.memoryBytes) / share / Double(1 << 30),
            "memory_bandwidth_gbps": (p.readBandwidth / share / 1e9 * 10).rounded() / 10,
            "fp16_dense_tflops": p.f32MatmulFLOPS / share / 1e12, "bf16_dense_tflops": p.f32MatmulFLOPS / share / 1e12,
            "int8_dense_tops": p.int8MatmulOPS / share / 1e12, "pcie_gen": 0,
            "source": "measured by shardline plan --profile-device on \(ISO8601DateFormatter().string(from: Date())): 1 GiB read; 2048x2048 f32 and int8 matmul of 256 rows",
            "note": "f32 matmul rate stands in for 16-bit (activations are f32 on this CPU); devices share host memory (link: shared-memory)",
        ]
        let data = try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
