import Foundation
import Logging
import MetricsTestKit
import Shared
import Testing

@testable import notifier

/// A temporary directory removed by `remove()`.
struct TempDir {
    let path: String
    init() throws {
        // Short: the state dir must fit a unix socket path.
        path = "/tmp/ntf-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

/// The Python fake (Fixtures/fake_sinks.py) as a child process.
final class FakeSinks: @unchecked Sendable {
    let child: ChildProcess
    let logPath: String
    private(set) var port: Int = 0
    let token: String

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fake_sinks.py").path
    }

    /// Spawns the fake; use `start` (which also learns the port). With `delayStart` nothing listens on
    /// `port` for that long (connection refused).
    private init(dir: TempDir, name: String = "fake", token: String = "xoxb-test-token", faults: [String: [String]] = [:],
         pageSize: Int = 1000, channels: String? = nil, port: Int = 0, delayStart: Double = 0) throws {
        logPath = dir.file("\(name).jsonl")
        self.token = token
        var args = [Self.script, "--log", logPath, "--token", token, "--page-size", String(pageSize), "--port", String(port)]
        if !faults.isEmpty {
            let scriptPath = dir.file("\(name)-script.json")
            try JSONSerialization.data(withJSONObject: faults).write(to: URL(fileURLWithPath: scriptPath))
            args += ["--script", scriptPath]
        }
        if let channels { args += ["--channels", channels] }
        if delayStart > 0 { args += ["--delay-start", String(delayStart)] }
        let out = dir.file("\(name).stdout")
        child = try ChildProcess("python3", args, stdoutPath: out, stderrPath: dir.file("\(name).stderr"))
        self.port = port
    }

    /// Starts the fake and waits (without blocking a thread of the cooperative pool) for its port.
    static func start(dir: TempDir, name: String = "fake", token: String = "xoxb-test-token", faults: [String: [String]] = [:],
                      pageSize: Int = 1000, channels: String? = nil, port: Int = 0, delayStart: Double = 0) async throws -> FakeSinks {
        let fake = try FakeSinks(dir: dir, name: name, token: token, faults: faults, pageSize: pageSize, channels: channels,
                                 port: port, delayStart: delayStart)
        if delayStart > 0 { return fake }
        let out = dir.file("\(name).stdout")
        // Polls until the fake prints its port. The last read comes after the deadline, so a test task that
        // was starved of CPU (other suites share the cooperative pool) still sees a port printed meanwhile.
        let deadline = ContinuousClock.now + .seconds(30)
        var text = ""
        while true {
            let late = ContinuousClock.now >= deadline
            text = String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self)
            if text.contains("\n") || late { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let p = text.split(separator: "\n").first?.split(separator: " ").last.flatMap({ Int($0) }) else {
            fake.stop()
            throw FakeError.noPort(text)
        }
        fake.port = p
        return fake
    }

    enum FakeError: Error { case noPort(String) }

    var base: String { "http://127.0.0.1:\(port)" }
    var slackAPI: String { base + "/api/" }
    func webhook(_ name: String = "a") -> String { base + "/hook/\(name)" }

    /// Every request recorded so far.
    func requests() -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: logPath) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    func requests(endpoint: String) -> [[String: Any]] { requests().filter { $0["endpoint"] as? String == endpoint } }

    func stop() { child.killAndReap() }

    deinit { stop() }
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

/// Polls `condition` every 50 ms until true or `timeout`; returns whether it became true.
@discardableResult
func eventually(timeout: Duration, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try condition()
}

/// A test alert with a deterministic id.
func testAlert(_ i: Int, kind: AlertKind = .sudoCall, prefix: String = "t") -> AlertPayload {
    let hash = "0x" + String(repeating: String(format: "%02x", i % 256), count: 32)
    return AlertPayload(id: "\(prefix)-\(kind.rawValue)-\(i)", kind: kind, instance: "Test", network: "Autonomys Mainnet",
                        node: "ws://127.0.0.1:9944", block: .init(height: UInt64(1000 + i), hash: hash),
                        extrinsic: kind == .sudoCall ? .init(index: 2, hash: hash) : nil, event: nil,
                        title: "\(kind.rawValue) \(i)", text: "**Sudo call detected**\nExtrinsic Sudo::sudo(2)",
                        links: ["block": "https://autonomys.subscan.io/block/\(hash)"], fields: ["n": .int(Int64(i))],
                        observedAt: AlertPayload.timestamp(Date()), mode: .current)
}

/// Configuration from command-line style arguments (no environment, no file).
func testConfiguration(_ args: [String]) throws -> Configuration {
    try ConfigLoader.resolve(options: ChainAlerterOptions.parse(args), environment: [:])
}

/// Writes `token` to a 0600 file.
func writeToken(_ token: String, in dir: TempDir, mode: mode_t = 0o600) throws -> String {
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

/// A child process started with posix_spawn: stdout/stderr to files, default signal dispositions and an
/// empty signal mask (so SIGTERM works whatever the test runner ignores), reaped with waitpid.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String
    private var status: Int32?

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
         stdoutPath: String, stderrPath: String) throws {
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var p: pid_t = 0
        let rc = posix_spawnp(&p, executable, &actions, &attr, argv, env)
        guard rc == 0 else { throw ChildError.spawn(executable, rc) }
        pid = p
    }

    enum ChildError: Error { case spawn(String, Int32), noPort(String) }

    func signal(_ s: Int32) { if status == nil { kill(pid, s) } }

    /// Waits up to `timeout` for the exit; returns the exit code (128+signal when killed) or nil.
    func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status { return status }
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid {
                let code = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                status = code
                return code
            }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGKILL and reap (cleanup; never leaves a process behind).
    func killAndReap() {
        guard status == nil else { return }
        kill(pid, SIGKILL)
        var raw: Int32 = 0
        waitpid(pid, &raw, 0)
        status = 137
    }

    var output: String {
        let out = FileManager.default.contents(atPath: stdoutPath) ?? Data()
        let err = FileManager.default.contents(atPath: stderrPath) ?? Data()
        return String(decoding: out, as: UTF8.self) + String(decoding: err, as: UTF8.self)
    }

    deinit { killAndReap() }
}
