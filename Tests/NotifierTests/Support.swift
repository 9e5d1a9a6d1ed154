import Foundation
import Logging
import MetricsTestKit
import Testing
@testable import notifier
@testable import Store
@testable import HTTPClient
@testable import WorkerRuntime
@testable import Wire
import TestKit


/// The Slack, webhook and Uptime Kuma doubles of the testing kit over real HTTP on loopback, with the
/// scripted faults of `FakeSinkService`.
final class FakeSinks: Sendable {
    let server: FakeSinkServer
    var service: FakeSinkService { server.service }
    var port: Int { server.port }
    var token: String { service.token }

    /// Starts the doubles. With `delayStart` nothing listens on `port` for that long (connection refused).
    static func start(dir: TemporaryDirectory, name: String = "fake", token: String = "xoxb-test-token", faults: [String: [String]] = [:],
                      pageSize: Int = 1000, channels: String? = nil, port: Int = 0, delayStart: Double = 0) async throws -> FakeSinks {
        let service = FakeSinkService(token: token, channels: channels ?? "chain-alerts-test:C0TEST,chain-alerts:C0PROD",
                                      pageSize: pageSize, faults: faults)
        return FakeSinks(server: try FakeSinkServer(service: service, port: port, delayStart: .milliseconds(Int64(delayStart * 1000))))
    }

    private init(server: FakeSinkServer) { self.server = server }

    var base: String { server.base }
    var slackAPI: String { server.slackAPI }
    func webhook(_ name: String = "a") -> String { server.webhook(name) }

    /// Every request recorded so far.
    func requests() -> [[String: Any]] { service.requests() }

    func requests(endpoint: String) -> [[String: Any]] { service.requests(endpoint: endpoint) }

    func stop() { server.stop() }
}

/// A port nothing listens on right now.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}


/// Configuration from command-line style arguments (no environment, no file).
func testConfiguration(_ args: [String]) throws -> Configuration {
    try ConfigLoader.resolve(options: ChainAlerterOptions.parse(args), environment: [:])
}

/// Writes `token` to a 0600 file.
func writeToken(_ token: String, in dir: TemporaryDirectory, mode: mode_t = 0o600) throws -> String {
    let path = dir.file("slack-secret")
    try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: path))
    chmod(path, mode)
    return path
}

/// Fast timings for in-process tests.
func fastTuning() -> NotifierTuning {
    var t = NotifierTuning()
    t.pollInterval = .milliseconds(200)
    t.retryPolicy = RetryPolicy(base: .milliseconds(100), cap: .seconds(1))
    t.webhookTimeout = .milliseconds(700)
    t.slackPageInterval = .milliseconds(20)
    t.slackMinPostInterval = .milliseconds(300)
    t.uptimeKumaInterval = .milliseconds(200)
    t.shutdownGrace = .seconds(5)
    t.doorbell = false
    return t
}

let testLogger: Logger = {
    var l = Logger(label: "test")
    l.logLevel = .warning
    return l
}()

/// A notifier running in this process over `store`; `stop()` shuts it down and returns its exit code.
final class RunningNotifier: Sendable {
    let notifier: Notifier
    let task: Task<Int32, Never>

    let metrics = TestMetrics()

    init(configuration: Configuration, store: AlertStore, token: String? = nil, tuning: NotifierTuning = fastTuning()) {
        let secret = token.map { Secret(bytes: Array($0.utf8)) }
        let sinks = Notifier.makeSinks(configuration: configuration, token: secret, tuning: tuning, logger: testLogger)
        let n = Notifier(configuration: configuration, store: store, sinks: sinks,
                         httpClient: CurlHTTPClient(threads: 2, logger: testLogger), tuning: tuning,
                         metrics: NotifierMetrics(factory: metrics), logger: testLogger)
        notifier = n
        task = Task { await n.run() }
    }

    func stop() async -> Int32 {
        notifier.shutdown(reason: "test done")
        return await task.value
    }
}

/// Helpers over recorded requests.
extension Array where Element == [String: Any] {
    /// Alert ids of accepted webhook requests.
    var acceptedWebhookIDs: [String] {
        filter { $0["endpoint"] as? String == "webhook" && $0["accepted"] as? Bool == true }
            .compactMap { ($0["headers"] as? [String: Any])?["idempotency-key"] as? String }
    }

    /// Alert ids of accepted Slack posts (from the message metadata).
    var postedSlackIDs: [String] {
        filter { $0["endpoint"] as? String == "chat.postMessage" && $0["accepted"] as? Bool == true }
            .compactMap { (($0["body"] as? [String: Any])?["metadata"] as? [String: Any]).flatMap { ($0["event_payload"] as? [String: Any])?["id"] as? String } }
    }
}

