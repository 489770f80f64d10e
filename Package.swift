// swift-tools-version: 6.1
import PackageDescription

// Hot C kernels are compiled -O3 even in debug builds: the tests run real models and
// an -O0 kernel is 10-30x slower. ISA-specific paths are picked at run time inside the C target.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno"])]

let package = Package(
    name: "Shardline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "shardline", targets: ["shardline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Property-based tests of the scheduler's invariants (test-only).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // The benchmark client's HTTP (the issue names it; NIO-based like the server).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            path: "Sources/COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Open MPI for ranks on several machines (Debian's libopenmpi-dev).
        .systemLibrary(
            name: "COpenMPI",
            path: "Sources/COpenMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        .target(name: "ShardlineKernels", cSettings: kernelFlags),
        // Shared-memory rings and futex waits between worker processes.
        .target(name: "ShardlineIPC", linkerSettings: [.linkedLibrary("rt")]),
        .target(name: "Compute", dependencies: ["ShardlineKernels", "COpenBLAS"]),
        .target(name: "ModelFormats"),
        .target(name: "Tokenizers"),
        .target(name: "Models", dependencies: ["Compute", "ModelFormats", "Tokenizers"]),
        .target(name: "Engine", dependencies: ["Tokenizers", "ShardlineKernels"]),
        .target(name: "Distributed", dependencies: ["Engine", "Models", "ModelFormats", "Compute", "ShardlineIPC", "ShardlineKernels", "COpenMPI"]),
        .target(
            name: "Server",
            dependencies: [
                "Engine", "Tokenizers",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The capacity planner: catalogs (data with sources), memory math, the engine's own
        // scheduler against a simulated executor.
        .target(name: "Planner", dependencies: ["Engine"], resources: [.copy("Catalog")]),
        .target(name: "Bench", dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")]),
        // The data-parallel front door for replicas on several machines (HTTP in, HTTP out).
        .target(
            name: "Router",
            dependencies: [
                "Engine", "Server",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "shardline",
            dependencies: [
                "Models", "ModelFormats", "Tokenizers", "Engine", "Distributed", "Server", "Bench", "Planner", "Router",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ComputeTests", dependencies: ["Compute"]),
        .testTarget(name: "ModelFormatsTests", dependencies: ["ModelFormats"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "ModelFormats", "Tokenizers"]),
        .testTarget(name: "EngineTests", dependencies: [
            "Engine", "Tokenizers", .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Engine", "Models", "Tokenizers"]),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Engine", "Distributed", "Models", "Tokenizers",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "BenchTests", dependencies: [
            "Bench", "Server", "Engine", "Distributed", "Models", "Tokenizers",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "PlannerTests", dependencies: ["Planner", "Engine"]),
        .testTarget(name: "RouterTests", dependencies: [
            "Router", "Server", "Engine", "Distributed", "Models", "Tokenizers",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "ShardlineCLITests", dependencies: ["shardline"]),
    ],
    swiftLanguageModes: [.v6]
)
