// swift-tools-version:6.1
import PackageDescription
import Foundation

// Strict concurrency is the Swift 6 language mode default; warnings are kept at zero by review, not by flags.
let swiftSettings: [SwiftSetting] = []

// How every executable is linked (docs/DESIGN.md, "Memory"): with lld; with packed relative relocations
// (DT_RELR, glibc 2.36) instead of tens of thousands of RELA entries that the loader reads at every start;
// and without exporting every Swift symbol, which also lets --gc-sections drop unused public code.
let executableLinkerSettings: [LinkerSetting] = {
    #if os(Linux)
    return [.unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"])]
    #else
    return []
    #endif
}()

extension Target.Dependency {
    static let argumentParser: Self = .product(name: "ArgumentParser", package: "swift-argument-parser")
    static let logging: Self = .product(name: "Logging", package: "swift-log")
    static let metrics: Self = .product(name: "Metrics", package: "swift-metrics")
    static let metricsTestKit: Self = .product(name: "MetricsTestKit", package: "swift-metrics")
    static let prometheus: Self = .product(name: "Prometheus", package: "swift-prometheus")
    static let toml: Self = .product(name: "TOMLKit", package: "TOMLKit")
    static let grdb: Self = .product(name: "GRDB", package: "GRDB.swift")
    static let nioCore: Self = .product(name: "NIOCore", package: "swift-nio")
    static let nioPosix: Self = .product(name: "NIOPosix", package: "swift-nio")
    static let nioHTTP1: Self = .product(name: "NIOHTTP1", package: "swift-nio")
    static let nioWebSocket: Self = .product(name: "NIOWebSocket", package: "swift-nio")
    static let nioSSL: Self = .product(name: "NIOSSL", package: "swift-nio-ssl")
    static let webSocketKit: Self = .product(name: "WebSocketKit", package: "websocket-kit")
}

/// A library module under Sources/Shared/<name> (docs/DESIGN.md, "Modules").
func sharedModule(_ name: String, _ dependencies: [Target.Dependency], exclude: [String] = []) -> Target {
    .target(name: name, dependencies: dependencies, path: "Sources/Shared/\(name)", exclude: exclude, swiftSettings: swiftSettings)
}

/// A worker executable; its library of owned, benchmarked logic (if any) lives in a subfolder and is excluded here.
func worker(_ name: String, _ dependencies: [Target.Dependency], exclude: [String] = []) -> Target {
    .executableTarget(name: name, dependencies: dependencies, path: "Sources/\(name)", exclude: exclude,
                      swiftSettings: swiftSettings, linkerSettings: executableLinkerSettings)
}

/// A test target: Tests/<name>, with the testing kit.
func tests(_ name: String, _ dependencies: [Target.Dependency], exclude: [String] = []) -> Target {
    .testTarget(name: name, dependencies: dependencies + ["TestKit"], exclude: exclude, swiftSettings: swiftSettings)
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
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3" ..< "5.0.0"),
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
        // libsecp256k1 with its recovery module (public-key recovery of the alert-system's signatures).
        .systemLibrary(name: "CSecp256k1", providers: [.apt(["libsecp256k1-dev"])]),

        // Sources/Shared: one library module per purpose (docs/DESIGN.md opens with the graph).
        sharedModule("SubstratePrimitives", ["CSodium", "CXXHash"]),
        sharedModule("SubstrateRuntime", ["SubstratePrimitives"]),
        sharedModule("Wire", ["SubstratePrimitives", "CZeroMQ", "CLinuxShims", .logging, .metrics]),
        sharedModule("WorkerRuntime", ["Wire", "SubstratePrimitives", "CLinuxShims", .argumentParser, .toml, .logging, .metrics, .prometheus]),
        sharedModule("ControlPlane", ["Wire", "WorkerRuntime", .logging]),
        sharedModule("Store", ["WorkerRuntime", .grdb, .logging, .metrics]),
        sharedModule("HTTPClient", ["WorkerRuntime", "CCurl", .logging]),
        // The Bitcoin SV alert-system's message format, signature check, key set and sequence rules: pure code.
        sharedModule("BSVAlert", ["CSecp256k1", .product(name: "Crypto", package: "swift-crypto")]),
        // libp2p (TCP, Noise, yamux, identify, ping, gossipsub, Kademlia client, /dnsaddr); depends on no module of ours.
        sharedModule("LibP2P", [.nioCore, .nioPosix, .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                                .product(name: "Crypto", package: "swift-crypto"), .logging, .metrics,
                                .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                     exclude: ["Protobuf/crypto.proto", "Protobuf/noise.proto", "Protobuf/identify.proto", "Protobuf/rpc.proto",
                               "Protobuf/kademlia.proto"]),
        // Used by every test target and benchmark, by no product binary.
        sharedModule("TestKit", ["SubstrateRuntime", "Wire", "WorkerRuntime", "HTTPClient", "Store", .logging, .nioCore, .nioPosix, .nioHTTP1,
                                 .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),

        // The rooms: each worker is a thin executable plus the types only it owns.
        .target(name: "ForkChoice", dependencies: ["Wire", "WorkerRuntime", "SubstratePrimitives", "SubstrateRuntime", .logging],
                path: "Sources/fork-worker/ForkChoice", swiftSettings: swiftSettings),
        .target(name: "AlertRules", dependencies: ["SubstrateRuntime", "Store", "Wire", "WorkerRuntime", .grdb, .toml, .logging, .metrics],
                path: "Sources/alert-worker/AlertRules", swiftSettings: swiftSettings),
        worker("supervisor", ["WorkerRuntime", "Wire", "ControlPlane", "Store", "SubstrateRuntime", "BSVAlert", "LibP2P", .argumentParser, .logging,
                              .metrics, .prometheus, .nioCore, .nioPosix, .nioHTTP1]),
        worker("node-watcher", ["WorkerRuntime", "Wire", "SubstrateRuntime", .argumentParser, .logging, .metrics, .webSocketKit,
                                .nioCore, .nioPosix, .nioSSL]),
        worker("fork-worker", ["ForkChoice", "WorkerRuntime", "Wire", "SubstrateRuntime", .logging, .metrics], exclude: ["ForkChoice"]),
        worker("alert-worker", ["AlertRules", "Store", "WorkerRuntime", "Wire", "SubstrateRuntime", .grdb, .toml, .logging, .metrics],
               exclude: ["AlertRules"]),
        worker("notifier", ["Store", "HTTPClient", "WorkerRuntime", "Wire", .grdb, .logging, .metrics]),
        // A simulated Subspace node (WebSocket JSON-RPC server) for `supervisor demo` and tests.
        worker("devnode", ["SubstrateRuntime", "WorkerRuntime", .argumentParser, .logging, .nioCore, .nioPosix, .nioHTTP1, .nioWebSocket,
                           .nioSSL, .toml]),

        // A test fixture, not a product: the real alert-worker process with rules that expose a block checked twice.
        .executableTarget(name: "alert-worker-probe", dependencies: ["AlertRules", "Store", "WorkerRuntime", "Wire"],
                          path: "Tests/Probes/alert-worker-probe", swiftSettings: swiftSettings),

        tests("SubstratePrimitivesTests", ["SubstratePrimitives"]),
        tests("SubstrateRuntimeTests", ["SubstrateRuntime", "SubstratePrimitives"]),
        tests("WireTests", ["Wire", "ControlPlane", "WorkerRuntime", "SubstratePrimitives", .metricsTestKit]),
        tests("WorkerRuntimeTests", ["WorkerRuntime", "ControlPlane", "Wire", .metricsTestKit]),
        tests("TestKitTests", ["HTTPClient"]),
        tests("StoreTests", ["Store", "WorkerRuntime", .grdb]),
        tests("HTTPClientTests", ["HTTPClient", "WorkerRuntime"]),
        tests("ForkChoiceTests", ["ForkChoice", "WorkerRuntime", "Wire", "SubstrateRuntime", "SubstratePrimitives"]),
        tests("SupervisorTests", ["supervisor", "WorkerRuntime", "Wire", "ControlPlane", "Store", "SubstrateRuntime", .metrics,
                                  .prometheus, .nioHTTP1]),
        tests("AlertRulesTests", ["AlertRules", "alert-worker", "devnode", "Store", "SubstrateRuntime", "SubstratePrimitives",
                                  "WorkerRuntime", "Wire"]),
        tests("ForkWorkerTests", ["fork-worker", "alert-worker-probe", "ForkChoice", "alert-worker", "AlertRules", "devnode", "node-watcher", "Store",
                                  "SubstrateRuntime", "SubstratePrimitives", "WorkerRuntime", "Wire", .grdb]),
        tests("NodeWatcherTests", ["node-watcher", "devnode", "SubstrateRuntime", "SubstratePrimitives", "WorkerRuntime", "Wire",
                                   .logging, .nioSSL]),
        tests("NotifierTests", ["notifier", "Store", "HTTPClient", "WorkerRuntime", "Wire", .metricsTestKit, .grdb]),
        tests("BSVAlertTests", ["BSVAlert", "supervisor"]),
        tests("LibP2PTests", ["LibP2P", .nioCore, .nioPosix, .product(name: "Crypto", package: "swift-crypto"), .metricsTestKit],
              exclude: ["Fixtures"]),
    ]
)

// Benchmarks are release-build executables under Benchmarks/; they are declared only on request so
// that a normal build or test run never compiles them:  CHAIN_ALERTER_BENCHMARKS=1 swift build -c release
/// A benchmark executable: Benchmarks/<name>, linking library modules only (never a worker's files by path).
func benchmark(_ name: String, _ dependencies: [Target.Dependency], exclude: [String] = []) -> Target {
    .executableTarget(name: name, dependencies: dependencies, path: "Benchmarks/\(name)", exclude: exclude,
                      swiftSettings: swiftSettings, linkerSettings: executableLinkerSettings)
}

if ProcessInfo.processInfo.environment["CHAIN_ALERTER_BENCHMARKS"] != nil {
    package.targets += [
        benchmark("bench-bus", ["Wire", "WorkerRuntime", "ControlPlane", "SubstratePrimitives", "CZeroMQ", .logging]),
        benchmark("bench-watcher", ["Wire", "WorkerRuntime", "SubstrateRuntime", "SubstratePrimitives", .logging]),
        benchmark("bench-notifier", ["Wire", "WorkerRuntime", "Store", "SubstratePrimitives", .logging]),
        benchmark("bench-fork", ["ForkChoice", "Wire", "WorkerRuntime", "SubstrateRuntime", "SubstratePrimitives", .logging]),
        benchmark("bench-rules", ["AlertRules", "TestKit", "Store", "Wire", "WorkerRuntime", "SubstrateRuntime", "SubstratePrimitives",
                                  .toml, .logging, .metrics]),
        benchmark("bench-scale", ["SubstrateRuntime", "SubstratePrimitives"], exclude: ["py_scalecodec_bench.py"]),
        benchmark("bench-alert-verify", ["BSVAlert"], exclude: ["coincurve_verify.py"]),
        benchmark("bench-p2p", ["LibP2P", .logging, .nioCore, .nioPosix]),
    ]
}

// A benchmark whose folder is not on this branch (yet) is skipped instead of breaking the benchmark build.
package.targets.removeAll { target in
    guard let path = target.path, path.hasPrefix("Benchmarks/") else { return false }
    return !FileManager.default.fileExists(atPath: Context.packageDirectory + "/" + path)
}
