// bench-notifier: commit → webhook receipt latency, and time to drain 1,000 queued alerts.
//
//   CHAIN_ALERTER_BENCHMARKS=1 swift build -c release --scratch-path .build-release
//   .build-release/release/bench-notifier [--alerts 500] [--drain 1000]
//
// Runs the real release `notifier` (next to this binary) against an in-process HTTP receiver on
// 127.0.0.1 and a SQLite store in a temporary state directory. The bench plays the alert-worker: it
// commits alert rows through `AlertStore.commitBlock` and rings the `AlertDoorbell`.
import Foundation
import Glibc
import Logging
import Wire
import WorkerRuntime
import Store
import SubstratePrimitives

func realtime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A minimal keep-alive HTTP/1.1 receiver that records when each alert id arrived.
final class Receiver: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32
    private let lock = NSLock()
    private var arrivals: [String: Double] = [:]
    private var total = 0

    init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 16)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = UInt16(bigEndian: addr.sin_port)
    }

    func start() {
        Thread { [self] in
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { continue }
                Thread { [self] in serve(c) }.start()
            }
        }.start()
    }

    private func serve(_ c: Int32) {
        var one: Int32 = 1
        setsockopt(c, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        let separator: [UInt8] = [13, 10, 13, 10]
        while true {
            guard let headerEnd = find(separator, in: buffer) else {
                let n = read(c, &chunk, chunk.count)
                if n <= 0 { close(c); return }
                buffer.append(contentsOf: chunk[0 ..< n])
                continue
            }
            let head = String(decoding: buffer[0 ..< headerEnd], as: UTF8.self)
            var length = 0
            var id: String?
            for line in head.split(separator: "\r\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let name = parts[0].lowercased()
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                if name == "content-length" { length = Int(value) ?? 0 }
                if name == "x-chain-alerter-alert-id" { id = value }
            }
            let need = headerEnd + 4 + length
            while buffer.count < need {
                let n = read(c, &chunk, chunk.count)
                if n <= 0 { close(c); return }
                buffer.append(contentsOf: chunk[0 ..< n])
            }
            let now = realtime()
            buffer.removeFirst(need)
            if let id {
                lock.lock()
                if arrivals[id] == nil { arrivals[id] = now }
                total += 1
                lock.unlock()
            }
            let response = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
            _ = response.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
        }
    }

    private func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0 ... hay.count - needle.count where hay[i] == needle[0] && Array(hay[i ..< i + needle.count]) == needle { return i }
        return nil
    }

    func arrival(_ id: String) -> Double? { lock.lock(); defer { lock.unlock() }; return arrivals[id] }
    var count: Int { lock.lock(); defer { lock.unlock() }; return arrivals.count }
    var requests: Int { lock.lock(); defer { lock.unlock() }; return total }
    func allArrivals() -> [Double] { lock.lock(); defer { lock.unlock() }; return Array(arrivals.values) }
}

func alert(_ i: Int, prefix: String) -> AlertPayload {
    let hash = "0x" + String(repeating: String(format: "%02x", i % 256), count: 32)
    return AlertPayload(id: "\(prefix)-\(i)", kind: .sudoCall, instance: "Bench", network: "Autonomys Mainnet", node: "ws://127.0.0.1:9944",
                        block: .init(height: UInt64(i), hash: hash), extrinsic: .init(index: 1, hash: hash), event: nil,
                        title: "Sudo call", text: "**Sudo call detected**\nExtrinsic Sudo::sudo(1)", links: [:], fields: [:],
                        observedAt: AlertPayload.timestamp(Date()), mode: .current)
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func waitFor(_ timeout: Double, _ condition: () -> Bool) -> Bool {
    let end = realtime() + timeout
    while realtime() < end { if condition() { return true }; usleep(200) }
    return condition()
}

func spawnNotifier(_ args: [String]) -> pid_t {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("notifier").path
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([exe] + args).map { strdup($0) } + [nil]
    var env = ProcessInfo.processInfo.environment
    env["CHAIN_ALERTER_LOG_LEVEL"] = "warning"
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, exe, &actions, nil, argv, envp)
    precondition(rc == 0, "cannot start \(exe): \(rc)")
    return pid
}

func stopNotifier(_ pid: pid_t) {
    kill(pid, SIGTERM)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
}

var latencyCount = 500
var drainCount = 1000
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let a = arguments.next() {
    if a == "--alerts", let v = arguments.next().flatMap(Int.init) { latencyCount = v }
    if a == "--drain", let v = arguments.next().flatMap(Int.init) { drainCount = v }
}

var logger = Logger(label: "bench")
logger.logLevel = .error
let stateDir = "/tmp/bench-notifier-\(getpid())"
try? FileManager.default.removeItem(atPath: stateDir)
try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: stateDir) }
let storePath = stateDir + "/store.sqlite"
let store = try AlertStore(location: .sqliteFile(path: storePath), logger: logger)
let receiver = Receiver()
receiver.start()
let hook = "http://127.0.0.1:\(receiver.port)/hook"
let notifierArgs = ["--slack=false", "--webhook-url", hook, "--store", "sqlite://\(storePath)", "--state-dir", stateDir]

// 1. Latency: one alert per commit, spaced, each measured from commit to receipt.
@MainActor func measureLatency(prefix: String, doorbell: Bool) throws -> [Double] {
    let bell = try BusLoop(name: "bench-bell", sockets: [SocketSpec(name: "bell", kind: .push,
                           attachments: [.connect(BusEndpoints.notifier(stateDirectory: stateDir))])], logger: logger)
    defer { bell.close() }
    var envelope = EnvelopeWriter(sender: "bench")
    var latencies: [Double] = []
    for i in 0 ..< latencyCount {
        let a = alert(i, prefix: prefix)
        let result = try store.commitBlock(alerts: [a], cursor: StoreCursor(name: AlertStore.alertWorkerCursor, height: UInt64(i), hash: "0x"))
        let committed = realtime()
        if doorbell { try bell.send(try envelope.seal(AlertDoorbell(highestRowID: result.lastRowID, newRows: 1))) }
        guard waitFor(5, { receiver.arrival(a.id) != nil }), let arrived = receiver.arrival(a.id) else {
            print("alert \(a.id) did not arrive within 5 s"); exit(1)
        }
        latencies.append((arrived - committed) * 1000)
        usleep(5000)
    }
    return latencies.sorted()
}

var pid = spawnNotifier(notifierArgs)
// Warm-up: the first alert also waits for the notifier to start.
_ = try store.insertAlerts([alert(0, prefix: "warm")])
guard waitFor(20, { receiver.arrival("warm-0") != nil }) else { print("notifier did not start"); exit(1) }
for (label, doorbell) in [("doorbell + data_version poll", true), ("data_version poll only (no doorbell)", false)] {
    let l = try measureLatency(prefix: doorbell ? "lat-bell" : "lat-poll", doorbell: doorbell)
    print(String(format: "latency commit → webhook receipt, %@ (n=%d): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms",
                 label, l.count, percentile(l, 0.5), percentile(l, 0.9), percentile(l, 0.99), l.last!))
}
stopNotifier(pid)

// 2. Drain: 1,000 alerts already queued when the notifier starts.
let queued = (0 ..< drainCount).map { alert($0, prefix: "drain") }
_ = try store.commitBlock(alerts: queued, cursor: nil)
let before = receiver.count
let started = realtime()
pid = spawnNotifier(notifierArgs)
guard waitFor(120, { receiver.count - before >= drainCount }) else { print("drain did not finish: \(receiver.count - before)"); exit(1) }
let finished = realtime()
stopNotifier(pid)
let drainArrivals = queued.compactMap { receiver.arrival($0.id) }.sorted()
let span = drainArrivals.last! - drainArrivals.first!
print(String(format: "drain %d queued alerts → webhook: %.3f s from process start (%.0f alerts/s); %.3f s first → last receipt (%.0f alerts/s)",
             drainCount, finished - started, Double(drainCount) / (finished - started), span, Double(drainCount - 1) / span))
print("raw webhook requests: \(receiver.requests), distinct alert ids: \(receiver.count)")
