// swift-tools-version:6.1
import PackageDescription
import Foundation

// Strict concurrency is the Swift 6 language mode default; warnings are kept at zero by review, not by flags.
// (`-function-sections` for our targets was measured: it made the ordered binaries 0.7–1.5 MB larger in RSS.)
let swiftSettings: [SwiftSetting] = []

// How every executable is linked (docs/DESIGN.md, "Memory"): with lld; with packed relative relocations
// (DT_RELR, glibc 2.36) instead of 86,000 RELA entries that the loader reads at every start; without
// exporting every Swift symbol, which also lets --gc-sections drop unused public code; and with the
// functions a profile saw the binary run placed together (Benchmarks/linker-order/), so that the code a
// process runs sits on few pages. A missing order file only costs memory.
func executableLinkerSettings(_ binary: String) -> [LinkerSetting] {
    #if os(Linux)
    var flags = ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"]
    let order = "\(Context.packageDirectory)/Benchmarks/linker-order/\(binary).order"
    if FileManager.default.fileExists(atPath: order) {
        flags += ["-Xlinker", "--symbol-ordering-file=\(order)", "-Xlinker", "--no-warn-symbol-ordering"]
    }
    return [.unsafeFlags(flags)]
    #else
    return []
    #endif
}

let package = Package(
    name: "chain-alerter",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "supervisor", targets: ["supervisor"]),
        .executable(name: "node-watcher", targets: ["node-watcher"]),
        .executable(name: "fork-worker", targets: ["fork-worker"]),
        .executable(name: "alert-worker", targets: ["alert-worker"]),
        .executable(name: "notifier", targets: ["notifier"]),
        .executable(name: "devnode", targets: ["devnode"]),
        .library(name: "Shared", targets: ["Shared"]),
        .library(name: "LibP2P", targets: ["LibP2P"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/websocket-kit", exact: "2.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // C libraries from Debian. Their headers are on the default include path; pkg-config is not used
        // because libzmq.pc (via krb5) adds -isystem flags that SwiftPM rejects with a warning on every build.
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CSodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CXXHash", providers: [.apt(["libxxhash-dev"])]),
        // libcurl's headers (libcurl4-openssl-dev) and a loader: no binary links libcurl, the notifier dlopens
        // it when it first needs HTTP (see Sources/CCurl/include/chain_curl.h).
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl")]),
        // Header-only: prctl (variadic) and eventfd, which the Glibc module does not expose to Swift.
        .systemLibrary(name: "CLinuxShims"),

        .target(
            name: "Shared",
            dependencies: [
                "CZeroMQ", "CSodium", "CXXHash", "CCurl", "CLinuxShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["LibP2P"],  // its own module (below)
            swiftSettings: swiftSettings
        ),
        // libp2p (TCP, Noise, yamux, identify, ping, gossipsub, Kademlia client); depends on no project module.
        .target(
            name: "LibP2P",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Sources/Shared/LibP2P",
            exclude: ["Protobuf/crypto.proto", "Protobuf/noise.proto", "Protobuf/identify.proto", "Protobuf/rpc.proto",
                      "Protobuf/kademlia.proto"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "supervisor",
            dependencies: [
                "Shared", "LibP2P",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("supervisor")
        ),
        .executableTarget(
            name: "node-watcher",
            dependencies: [
                "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "WebSocketKit", package: "websocket-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("node-watcher")
        ),
        // A simulated Subspace node (WebSocket JSON-RPC server) for `supervisor demo` and tests.
        .executableTarget(
            name: "devnode",
            dependencies: [
                "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("devnode")
        ),
        .executableTarget(name: "fork-worker", dependencies: ["Shared"], swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("fork-worker")),
        .executableTarget(
            name: "alert-worker",
            dependencies: [
                "Shared", .product(name: "TOMLKit", package: "TOMLKit"), .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("alert-worker")
        ),
        .executableTarget(
            name: "notifier",
            dependencies: ["Shared", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("notifier")
        ),

        .testTarget(
            name: "SharedTests",
            dependencies: [
                "Shared",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SupervisorTests",
            dependencies: [
                "supervisor", "Shared",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LibP2PTests",
            dependencies: [
                "LibP2P",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AlertRulesTests",
            dependencies: ["alert-worker", "devnode", "Shared"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ForkWorkerTests",
            dependencies: ["fork-worker", "alert-worker", "devnode", "node-watcher", "Shared", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NodeWatcherTests",
            dependencies: [
                "node-watcher", "devnode", "Shared",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NotifierTests",
            dependencies: ["notifier", "Shared", .product(name: "MetricsTestKit", package: "swift-metrics")],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
    ]
)

// Benchmarks are release-build executables under Benchmarks/; they are declared only on request so
// that a normal build or test run never compiles them:  CHAIN_ALERTER_BENCHMARKS=1 swift build -c release
if ProcessInfo.processInfo.environment["CHAIN_ALERTER_BENCHMARKS"] != nil {
    package.targets += [
        .executableTarget(
            name: "bench-bus",
            dependencies: ["Shared", "CZeroMQ"],
            path: "Benchmarks/bench-bus",
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("bench-bus")
        ),
        .executableTarget(
            name: "bench-watcher",
            dependencies: ["Shared"],
            path: "Benchmarks/bench-watcher",
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("bench-watcher")
        ),
        .executableTarget(
            name: "bench-notifier",
            dependencies: ["Shared", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/bench-notifier",
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("bench-notifier")
        ),
        .executableTarget(
            name: "bench-fork",
            dependencies: ["Shared"],
            path: "Benchmarks/bench-fork",
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("bench-fork")
        ),
        .executableTarget(
            name: "bench-rules",
            dependencies: ["Shared", .product(name: "TOMLKit", package: "TOMLKit"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics")],
            path: "Benchmarks/bench-rules",
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("bench-rules")
        ),
        .executableTarget(
            name: "bench-p2p",
            dependencies: ["LibP2P", .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Benchmarks/bench-p2p",
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("bench-p2p")
        ),
        .executableTarget(
            name: "bench-scale",
            dependencies: ["Shared"],
            path: "Benchmarks/bench-scale",
            exclude: ["py_scalecodec_bench.py"],
            swiftSettings: swiftSettings,
            linkerSettings: executableLinkerSettings("bench-scale")
        ),
    ]
}

// A benchmark whose folder is not on this branch (yet) is skipped instead of breaking the benchmark build.
package.targets.removeAll { target in
    guard let path = target.path, path.hasPrefix("Benchmarks/") else { return false }
    return !FileManager.default.fileExists(atPath: Context.packageDirectory + "/" + path)
}
