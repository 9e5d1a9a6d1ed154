@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit
import Foundation
import NIOHTTP1
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A devnode started by a test, serving one port per `[[nodes]]` entry of its scenario.
final class TestDevnode: @unchecked Sendable {
    let process = Process()
    private let urls = Mutex<[String]>([])

    init(scenario: String, scratch: ScratchDirectory) throws {
        let file = scratch.path + "/scenario.toml"
        try scenario.write(toFile: file, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: BuildProducts.directory + "/devnode")
        process.arguments = ["--port", "0", "--host", "127.0.0.1", "--scenario", file]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CHAIN_ALERTER_") }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let reading = output.fileHandleForReading
        Thread.detachNewThread { [self] in
            var buffer = Data()
            while true {
                let chunk = reading.availableData
                if chunk.isEmpty { return }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 0x0a) {
                    let line = String(decoding: buffer[buffer.startIndex ..< newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex ... newline)
                    if let range = line.range(of: "url=") {
                        let url = String(line[range.upperBound...].prefix { !$0.isWhitespace })
                        self.urls.withLock { $0.append(url) }
                    }
                }
            }
        }
    }

    func waitForURLs(_ count: Int) async throws -> [String] {
        try await eventuallyValue(timeout: .seconds(20), every: .milliseconds(5), "devnode listening on \(count) ports") { () -> [String]? in
            let current = self.urls.withLock { $0 }
            return current.count >= count ? Array(current.prefix(count)) : nil
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

extension RealProcesses {
    /// `/metrics`, `/health`, `/status` and the status page of a real supervisor over a real devnode with three nodes.
    @Suite(.serialized, .timeLimit(.minutes(3)))
    struct ObservabilityProcessTests {
        static let scenario = """
        name = "observability"
        history = 20
        block_interval_ms = 200

        [[nodes]]
        name = "n0"

        [[nodes]]
        name = "n1"

        [[nodes]]
        name = "n2"

        [[actions]]
        kind = "sudo"
        at = 23

        [[actions]]
        kind = "large_transfer"
        at = 25

        # More alerts later, so that the alert-worker's counters show some even if a loaded machine made the
        # supervisor replace it (a new process counts only the alerts it writes itself).
        [[actions]]
        kind = "sudo"
        at = 45

        [[actions]]
        kind = "sudo"
        at = 65

        [[actions]]
        kind = "sudo"
        at = 85

        [[actions]]
        kind = "sudo"
        at = 105
        """
        static let names = ["notifier", "alert-worker", "fork-worker", "node-watcher-0", "node-watcher-1", "node-watcher-2"]

        @Test func endpointsOfARealPipelineWithThreeNodes() async throws {
            let nodeScratch = try ScratchDirectory()
            defer { nodeScratch.remove() }
            let devnode = try TestDevnode(scenario: Self.scenario, scratch: nodeScratch)
            defer { devnode.stop() }
            let urls = try await devnode.waitForURLs(3)
            let python = try PythonTooling.pythonWithPrometheusClient()

            let arguments = urls.flatMap { ["--node-rpc-url", $0] } + ["--http-listen", "127.0.0.1:0"]
            try await withSupervisor(arguments: arguments, tuning: "") { supervisor in
                _ = try await supervisor.waitUntilAllReady(Self.names, within: .seconds(30))
                let address = try await eventuallyValue(timeout: .seconds(5), every: .milliseconds(5), "http-address written") { () -> String? in
                    (try? String(contentsOfFile: supervisor.stateDirectory + "/http-address", encoding: .utf8))?
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                }
                #expect(address.hasPrefix("127.0.0.1:") && !address.hasSuffix(":0"))

                // /status: workers, three nodes with heights, the alerts the scenario produced.
                let status = try await eventuallyValue(timeout: .seconds(30), every: .milliseconds(200), "/status with node heights and alerts") { () -> [String: Any]? in
                    guard let response = try? httpGet(address, "/status"), response.status == 200,
                          let json = try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any],
                          let nodes = json["nodes"] as? [[String: Any]], nodes.count == 3,
                          nodes.allSatisfy({ ($0["height"] as? Int ?? 0) > 20 && $0["state"] as? String == "healthy" }),
                          let alerts = json["recent_alerts"] as? [[String: Any]],
                          alerts.contains(where: { $0["kind"] as? String == "SudoCall" }) else { return nil }
                    return json
                }
                let workers = try #require(status["workers"] as? [[String: Any]])
                #expect(Set(workers.compactMap { $0["name"] as? String }) == Set(Self.names))
                #expect(workers.allSatisfy { $0["state"] as? String == "running" && ($0["pid"] as? Int ?? 0) > 0 })
                let best = try #require(status["best_block"] as? [String: Any])
                #expect((best["height"] as? Int ?? 0) > 20)
                #expect(Set((status["nodes"] as? [[String: Any]] ?? []).compactMap { $0["url"] as? String }) == Set(urls))

                // /health: everything up.
                let health = try await eventuallyValue(timeout: .seconds(10), every: .milliseconds(200), "/health 200") { () -> RawHTTPResponse? in
                    guard let r = try? httpGet(address, "/health"), r.status == 200 else { return nil }
                    return r
                }
                #expect(health.body.contains("\"status\":\"ok\""), "\(health.body)")

                // /metrics: valid for prometheus_client's parser, one family per name, samples of every worker.
                // (Once the alert-worker's and the notifier's expositions, each at most a heartbeat old, show the alerts.)
                let metrics = try await eventuallyValue(timeout: .seconds(20), every: .milliseconds(200), "/metrics with alerts and deliveries") { () -> RawHTTPResponse? in
                    guard let r = try? httpGet(address, "/metrics"), r.status == 200,
                          r.body.contains("chain_alerter_alerts_total{worker=\"alert-worker\",kind=\"SudoCall\"}"),
                          r.body.contains("chain_alerter_notifier_outbox_depth{worker=\"notifier\""),
                          r.body.contains("chain_alerter_notifier_deliveries_total{worker=\"notifier\"") else { return nil }
                    return r
                }
                #expect(metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
                let parsed = try PythonTooling.run(python, ["-c", Self.parseScript], stdin: metrics.body)
                try #require(parsed.status == 0, "prometheus_client rejected /metrics: \(parsed.output.suffix(2000))")
                let families = try #require(try JSONSerialization.jsonObject(with: Data(parsed.output.utf8)) as? [String: [[String: Any]]])
                func samples(_ family: String) -> [[String: Any]] { families[family] ?? [] }
                func workersOf(_ family: String) -> Set<String> {
                    Set(samples(family).compactMap { ($0["labels"] as? [String: String])?["worker"] })
                }
                let heights = samples("chain_alerter_watcher_best_height")
                #expect(workersOf("chain_alerter_watcher_best_height") == ["node-watcher-0", "node-watcher-1", "node-watcher-2"])
                #expect(heights.allSatisfy { ($0["value"] as? Double ?? 0) > 0 })
                #expect(Set(heights.compactMap { ($0["labels"] as? [String: String])?["node"] }) == Set(urls))
                #expect(workersOf("chain_alerter_watcher_rpc_latency").count == 3, "RPC latency histograms per watcher")
                #expect(workersOf("chain_alerter_watcher_headers").count == 3, "blocks seen per node")
                #expect(workersOf("chain_alerter_alerts").contains("alert-worker"), "alerts by kind; \(supervisor.log.suffix(3000))")
                #expect(samples("chain_alerter_alerts").contains { ($0["labels"] as? [String: String])?["kind"] == "SudoCall" })
                #expect(workersOf("chain_alerter_notifier_deliveries").contains("notifier"))
                #expect(workersOf("chain_alerter_notifier_outbox_depth").contains("notifier"))
                #expect(workersOf("chain_alerter_worker_up") == ["supervisor"])
                #expect(Set(samples("chain_alerter_worker_up").compactMap { ($0["labels"] as? [String: String])?["name"] }) == Set(Self.names))
                #expect(samples("chain_alerter_worker_up").allSatisfy { $0["value"] as? Double == 1 })

                // Latency of the endpoints with three nodes (reported, loosely bounded).
                var metricsTimes: [Double] = []
                var statusTimes: [Double] = []
                for _ in 0 ..< 20 {
                    metricsTimes.append(try httpGet(address, "/metrics").seconds)
                    statusTimes.append(try httpGet(address, "/status").seconds)
                }
                metricsTimes.sort()
                statusTimes.sort()
                print("observability: /metrics \(metrics.body.utf8.count) bytes, median \(metricsTimes[10] * 1000) ms, max \(metricsTimes[19] * 1000) ms; /status median \(statusTimes[10] * 1000) ms, max \(statusTimes[19] * 1000) ms")
                #expect(metricsTimes[10] < 0.5 && statusTimes[10] < 0.5)

                // The status page in headless Chromium: a real screenshot, and the DOM filled from /status.
                let shot = supervisor.scratch.path + "/status.png"
                let page = try Chromium.run(["--screenshot=\(shot)", "--window-size=412,915", "--virtual-time-budget=5000", "http://\(address)/"],
                                            scratch: supervisor.scratch.path)
                let png = try #require(FileManager.default.contents(atPath: shot), "no screenshot: \(page.suffix(1500))")
                #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
                let width = png.count > 24 ? png[16 ..< 20].reduce(0) { $0 << 8 | Int($1) } : 0
                let height = png.count > 24 ? png[20 ..< 24].reduce(0) { $0 << 8 | Int($1) } : 0
                #expect(width == 412 && height == 915, "phone-sized screenshot")
                #expect(png.count > 20_000, "the screenshot shows content (\(png.count) bytes)")
                let dom = try Chromium.run(["--dump-dom", "--window-size=412,915", "--virtual-time-budget=5000", "http://\(address)/"],
                                           scratch: supervisor.scratch.path)
                for name in Self.names { #expect(dom.contains("data-worker=\"\(name)\""), "page shows \(name)") }
                #expect(dom.contains(urls[2]))
                #expect(dom.contains("SudoCall"))

                // A worker killed: /health is 503 naming it until it is back, then 200 again.
                func alertWorkerRow() throws -> [String: Any]? {
                    let json = try JSONSerialization.jsonObject(with: Data(try httpGet(address, "/status").body.utf8)) as? [String: Any]
                    return (json?["workers"] as? [[String: Any]])?.first { $0["name"] as? String == "alert-worker" }
                }
                let restartsBefore = try #require(try alertWorkerRow()?["restarts"] as? Int)
                let victim = try #require(supervisor.workers()["alert-worker"])
                kill(victim, SIGKILL)
                let unhealthy = try await eventuallyValue(timeout: .seconds(5), every: .milliseconds(20), "/health 503") { () -> RawHTTPResponse? in
                    guard let r = try? httpGet(address, "/health"), r.status == 503 else { return nil }
                    return r
                }
                #expect(unhealthy.body.contains("alert-worker"), "\(unhealthy.body)")
                _ = try await eventuallyValue(timeout: .seconds(15), every: .milliseconds(200), "/health 200 again") { () -> Bool? in
                    (try? httpGet(address, "/health"))?.status == 200 ? true : nil
                }
                let row = try alertWorkerRow()
                #expect(row?["restarts"] as? Int == restartsBefore + 1)
                #expect((row?["last_exit"] as? String)?.isEmpty == false)

                // No node left: 503 saying so.
                devnode.stop()
                let noNode = try await eventuallyValue(timeout: .seconds(10), every: .milliseconds(200), "/health 503 without nodes") { () -> RawHTTPResponse? in
                    guard let r = try? httpGet(address, "/health"), r.status == 503, r.body.contains("no healthy node") else { return nil }
                    return r
                }
                #expect(noNode.headers["content-type"] == "application/json")
            }
        }

        /// Reads the exposition on stdin with prometheus_client and prints {family: [{labels, value}]} as JSON;
        /// fails on a parse error or a family name that appears twice.
        static let parseScript = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        out = {}
        for family in text_string_to_metric_families(sys.stdin.read()):
            if family.name in out:
                sys.exit("family %s appears twice" % family.name)
            out[family.name] = [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]
        print(json.dumps(out))
        """

        @Test func badListenAddressIsAConfigErrorAndABusyPortIsNamed() async throws {
            let scratch = try ScratchDirectory()
            defer { scratch.remove() }
            let base = ["--slack=false", "--node-rpc-url", "ws://127.0.0.1:1", "--state-dir", scratch.path + "/state"]
            let nonsense = try await runSupervisorCommand(base + ["--http-listen", "nonsense"])
            #expect(nonsense.status == .exited(78))
            #expect(nonsense.stderr.contains("--http-listen"), "\(nonsense.stderr)")
            let unresolvable = try await runSupervisorCommand(base + ["--http-listen", "no-such-host.invalid:9616"])
            #expect(unresolvable.status == .exited(78))
            #expect(unresolvable.stderr.contains("--http-listen"), "\(unresolvable.stderr)")

            // Hold a port, then ask the supervisor for it.
            let holder = try ObservabilityServer.start(listen: ListenAddress(host: "127.0.0.1", port: 0), routes: ObservabilityRoutesTests.routes())
            defer { holder.close() }
            let busy = try await runSupervisorCommand(base + ["--http-listen", holder.boundAddress])
            #expect(busy.status == .exited(1))
            #expect(busy.stderr.contains("already in use") && busy.stderr.contains(holder.boundAddress), "\(busy.stderr)")
        }

        @Test func theServerAnswersBadRequestsAndKeepsServing() async throws {
            let server = try ObservabilityServer.start(listen: ListenAddress(host: "127.0.0.1", port: 0), routes: ObservabilityRoutesTests.routes())
            defer { server.close() }
            let address = server.boundAddress
            #expect(try rawHTTP(address, request: "THIS IS NOT HTTP\r\n\r\n").status == 400)
            #expect(try rawHTTP(address, request: "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n").status == 400)
            let post = try rawHTTP(address, request: "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
            #expect(post.status == 405 && post.headers["allow"] == "GET, HEAD")
            #expect(try httpGet(address, "/missing").status == 404)
            let head = try httpGet(address, "/metrics", method: "HEAD")
            #expect(head.status == 200 && head.body.isEmpty && head.headers["content-length"] != "0")
            // HTTP/1.0 without a Host header is fine.
            #expect(try rawHTTP(address, request: "GET /health HTTP/1.0\r\n\r\n").status == 200)
            // Many clients at once, one of them silent (it is dropped after the idle timeout, not waited for).
            let silent = try rawSocket(address)
            defer { close(silent) }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0 ..< 32 { group.addTask { try httpGet(address, "/status").status } }
                for try await status in group { #expect(status == 200) }
            }
            let metrics = try httpGet(address, "/metrics")
            #expect(metrics.status == 200 && metrics.body.contains("a{worker=\"x\"} 1"))
        }
    }
}

/// An open TCP connection that never sends anything.
func rawSocket(_ address: String) throws -> Int32 {
    guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else { throw HTTPTestError("bad address") }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    inet_pton(AF_INET, String(address[..<colon]), &addr.sin_addr)
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard rc == 0 else { close(fd); throw HTTPTestError("connect failed") }
    return fd
}

/// Headless Chromium from Debian (`apt-get install chromium`; `.ci/setup-debian` installs it).
enum Chromium {
    static func run(_ arguments: [String], scratch: String) throws -> String {
        let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else {
            throw HTTPTestError("no chromium binary; install it with: apt-get install -y chromium (.ci/setup-debian does)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--user-data-dir=\(scratch)/chromium-profile"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["HOME": scratch]) { _, new in new }
        let output = scratch + "/chromium-\(UInt32.random(in: 0 ... .max)).out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let deadline = Date().addingTimeInterval(45)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            throw HTTPTestError("chromium did not finish within 45 s")
        }
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }
}
