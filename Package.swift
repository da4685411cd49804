// swift-tools-version:6.0
// pairs: dataset-level inference from sharded HDF5 collision events (see README.md and ../shared/design.md).
import PackageDescription

let package = Package(
    name: "pairs",
    products: [
        .executable(name: "pairs", targets: ["pairs"]),
        .executable(name: "pairs-bench", targets: ["pairs-bench"]),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian: libzmq3-dev, libhdf5-dev, libopenblas-dev, libssl-dev).
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Typed wrappers, one per C library.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        .target(name: "Numerics", dependencies: ["COpenBLAS"]),
        .target(name: "Digest", dependencies: ["CCrypto"]),

        // Exact, order-independent sums and their wire encoding.
        .target(name: "ExactSum"),

        // The PAIRS domain: shards, model, simulators, inference math.
        .target(name: "PairsCore", dependencies: ["HDF5", "Numerics", "ExactSum", "Digest"]),

        // The distributed run: protocol logic (no sockets), then its ZeroMQ transport.
        .target(name: "Cluster", dependencies: ["PairsCore", "ExactSum", "Digest"]),
        .target(name: "ClusterZMQ", dependencies: ["Cluster", "ZeroMQ", "PairsCore"]),

        // The report: model, JSON rendering (HTML and terminal views later).
        .target(name: "Report", dependencies: ["PairsCore"]),

        // Thin command-line interface.
        .executableTarget(name: "pairs", dependencies: ["PairsCore", "HDF5", "Numerics", "ZeroMQ", "Cluster", "ClusterZMQ", "Report"]),

        // Benchmarks (figures in Benchmarks/results, never in unit tests).
        .executableTarget(name: "pairs-bench", dependencies: ["PairsCore", "Numerics", "ExactSum", "Cluster", "ClusterZMQ", "ZeroMQ", "HDF5"], path: "Benchmarks/Sources/pairs-bench"),
        // Seeded mutation fuzzing of the decoders (Fuzz/corpus; run by .ci/run for a bounded time).
        .executableTarget(name: "pairs-fuzz", dependencies: ["Cluster", "Digest", "ExactSum", "Numerics", "PairsCore"], path: "Fuzz/Sources/pairs-fuzz"),

        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"]),
        .testTarget(name: "DigestTests", dependencies: ["Digest"]),
        .testTarget(name: "NumericsTests", dependencies: ["Numerics"]),
        .testTarget(name: "ExactSumTests", dependencies: ["ExactSum"]),
        .testTarget(name: "PairsCoreTests", dependencies: ["PairsCore", "HDF5"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "PairsCore", "ExactSum"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "PairsCore", "Numerics", "ExactSum"]),
        .testTarget(name: "pairsTests", dependencies: ["pairs", "ZeroMQ", "Cluster", "ExactSum", "PairsCore"]),
    ]
)
