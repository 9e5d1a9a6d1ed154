import Foundation
import Metrics
import NIOHTTP1
import Prometheus
import Testing
@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

/// The exposition parser and aggregator, the HTTP routes and the status document, without processes.
@Suite struct ExpositionTests {
    @Test func parsesFamiliesWithTypesHelpAndSuffixedSamples() {
        let text = """
        # HELP requests_total Requests seen.
        # TYPE requests_total counter
        requests_total{node="ws://a:1",method="x"} 3
        requests_total{node="ws://b:2"} 4 1700000000000
        # TYPE latency histogram
        latency_bucket{le="0.1"} 1
        latency_bucket{le="+Inf"} 2
        latency_sum 0.3
        latency_count 2
        # a plain comment
        loose_metric 7
        this is not a sample
        bad_value{a="b"} twelve
        """
        let (families, rejected) = Exposition.parse(text)
        #expect(rejected == 2)
        #expect(families.map(\.name) == ["requests_total", "latency", "loose_metric"])
        #expect(families[0].type == "counter")
        #expect(families[0].help == "Requests seen.")
        #expect(families[0].samples.count == 2)
        #expect(families[0].samples[0].label("node") == "ws://a:1")
        #expect(families[0].samples[1].timestamp == "1700000000000")
        #expect(families[1].type == "histogram")
        #expect(families[1].samples.map(\.name) == ["latency_bucket", "latency_bucket", "latency_sum", "latency_count"])
        #expect(families[1].samples[1].label("le") == "+Inf" && families[1].samples[1].number == 2)
        #expect(ExpositionSample.parseNumber("+Inf") == .infinity && ExpositionSample.parseNumber("-Inf") == -.infinity)
        #expect(families[2].type == "untyped")
    }

    @Test func labelValuesAreUnescapedAndEscapedAgain() throws {
        let sample = try #require(Exposition.parseSample(#"m{a="quote \" back \\ nl \n end",b="x"} 1"#))
        #expect(sample.label("a") == "quote \" back \\ nl \n end")
        let rendered = Exposition.render(sample, worker: Exposition.escapeLabelValue("w\"1"))
        #expect(rendered == #"m{worker="w\"1",a="quote \" back \\ nl \n end",b="x"} 1"#)
        #expect(Exposition.parseSample(rendered)?.labels.first == .init(name: "worker", value: "w\"1"))
        // Broken escapes and unterminated label sets are rejected, not guessed.
        #expect(Exposition.parseSample(#"m{a="\q"} 1"#) == nil)
        #expect(Exposition.parseSample(#"m{a="x" 1"#) == nil)
        #expect(Exposition.parseSample("m 1 notatimestamp") == nil)
    }

    @Test func aggregationAddsWorkerLabelOnceAndMergesFamilies() {
        let a = Exposition.parse("""
        # HELP chain_alerter_bus_sent_total Messages sent.
        # TYPE chain_alerter_bus_sent_total counter
        chain_alerter_bus_sent_total{socket="blocks"} 5
        # TYPE shared_gauge gauge
        shared_gauge{worker="inner"} 1
        """).families
        let b = Exposition.parse("""
        # TYPE chain_alerter_bus_sent_total counter
        chain_alerter_bus_sent_total{socket="fetch"} 6
        # TYPE shared_gauge counter
        shared_gauge 2
        # TYPE only_b gauge
        only_b 3
        """).families
        let (text, conflicts) = Exposition.aggregate([.init(worker: "node-watcher-0", families: a), .init(worker: "fork-worker", families: b)])
        #expect(conflicts == 1, "fork-worker's shared_gauge has another TYPE and is left out")
        #expect(text == """
        # HELP chain_alerter_bus_sent_total Messages sent.
        # TYPE chain_alerter_bus_sent_total counter
        chain_alerter_bus_sent_total{worker="node-watcher-0",socket="blocks"} 5
        chain_alerter_bus_sent_total{worker="fork-worker",socket="fetch"} 6
        # TYPE shared_gauge gauge
        shared_gauge{worker="node-watcher-0",exported_worker="inner"} 1
        # TYPE only_b gauge
        only_b{worker="fork-worker"} 3

        """)
        // Every TYPE line once per family.
        let typeLines = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
        #expect(Set(typeLines).count == typeLines.count)
    }

    @Test func swiftPrometheusOutputSurvivesTheRoundTrip() {
        let export = WorkerMetricsExport()
        let factory = export.factory
        Counter(label: "chain_alerter_test_total", dimensions: [("node", "ws://127.0.0.1:9944")], factory: factory).increment(by: 3)
        Gauge(label: "chain_alerter_test_height", dimensions: [("node", "ws://127.0.0.1:9944")], factory: factory).record(42)
        Timer(label: "chain_alerter_test_latency", dimensions: [("method", "chain_getHeader")], factory: factory).recordMilliseconds(30)
        let families = Exposition.parse(export.exposition()).families
        let byName = Dictionary(families.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["chain_alerter_test_total"]?.type == "counter")
        #expect(byName["chain_alerter_test_total"]?.samples.first?.number == 3)
        #expect(byName["chain_alerter_test_height"]?.samples.first?.number == 42)
        #expect(byName["chain_alerter_test_latency"]?.type == "histogram")
        #expect(byName["chain_alerter_test_latency"]?.samples.contains { $0.name == "chain_alerter_test_latency_count" && $0.number == 1 } == true)
        let (text, conflicts) = Exposition.aggregate([.init(worker: "w", families: families)])
        #expect(conflicts == 0)
        #expect(text.contains(#"chain_alerter_test_height{worker="w",node="ws://127.0.0.1:9944"} 42"#))
    }

    @Test func truncationKeepsWholeFamilies() {
        let text = "# TYPE a counter\na 1\n# TYPE b gauge\nb{x=\"1\"} 2\nb{x=\"2\"} 3\n"
        #expect(WorkerMetricsExport.truncated(text, limit: 1000) == text)
        let cut = WorkerMetricsExport.truncated(text, limit: text.utf8.count - 3)
        #expect(cut == "# TYPE a counter\na 1\n")
        #expect(WorkerMetricsExport.truncated(text, limit: 5) == "")
    }

    @Test func heartbeatWithoutMetricsStillDecodesAndNewOnesCarryThem() throws {
        let old = #"{"worker":"notifier","pid":12,"sequence":3,"status":{}}"#
        let beat = try JSONDecoder().decode(WorkerHeartbeat.self, from: Data(old.utf8))
        #expect(beat.metrics == nil && beat.worker == "notifier")
        let new = WorkerHeartbeat(worker: "notifier", pid: 12, sequence: 4, metrics: "# TYPE a counter\na 1\n")
        let decoded = try JSONDecoder().decode(WorkerHeartbeat.self, from: JSONEncoder().encode(new))
        #expect(decoded == new)
        // The largest exposition a worker sends still fits in one control frame once sealed.
        let big = String(repeating: "m{a=\"\\\"\"} 1\n", count: WorkerHeartbeat.maxMetricsBytes / 12)
        var writer = EnvelopeWriter(sender: "notifier")
        let frame = try writer.seal(WorkerHeartbeat(worker: "notifier", pid: 1, sequence: 1, metrics: WorkerMetricsExport.truncated(big, limit: WorkerHeartbeat.maxMetricsBytes)))
        #expect(frame.count <= Envelope.controlMaxFrameSize)
    }
}

@Suite struct ObservabilityRoutesTests {
    static func document(healthy: Bool) -> StatusDocument {
        StatusDocument(
            generatedAt: "now", health: .init(healthy: healthy, reasons: healthy ? [] : ["worker notifier is backoff"]),
            supervisor: .init(pid: 1, uptimeSeconds: 2, shuttingDown: false),
            workers: [.init(name: "notifier", role: "notifier", pid: 5, state: healthy ? "running" : "backoff", uptimeSeconds: 1,
                            restarts: 0, lastExit: nil, heartbeatAgeSeconds: 0.5)],
            nodes: [.init(url: "ws://n", worker: "node-watcher-0", height: 10, lag: 0, latencySeconds: 0.01, connected: true,
                          isolated: false, primary: true, state: "healthy")],
            bestBlock: .init(height: 10, node: "ws://n", checkedHeight: 9), openConditions: [], recentAlerts: [], storeProblem: nil)
    }

    static func routes(healthy: Bool = true) -> ObservabilityRoutes {
        ObservabilityRoutes(metrics: { "# TYPE a counter\na{worker=\"x\"} 1\n" }, status: { document(healthy: healthy) })
    }

    @Test func endpointsAnswerWithTheirContentTypes() throws {
        let routes = Self.routes()
        let metrics = routes.answer(method: .GET, uri: "/metrics")
        #expect(metrics.status == .ok)
        #expect(metrics.contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(String(decoding: metrics.body, as: UTF8.self).contains("a{worker=\"x\"} 1"))
        let status = routes.answer(method: .GET, uri: "/status?pretty=1")
        #expect(status.status == .ok && status.contentType == "application/json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.body)) as? [String: Any])
        #expect((json["workers"] as? [[String: Any]])?.first?["uptime_seconds"] as? Double == 1)
        #expect((json["best_block"] as? [String: Any])?["checked_height"] as? Int == 9)
        let page = routes.answer(method: .GET, uri: "/")
        #expect(page.contentType.hasPrefix("text/html"))
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains("name=\"viewport\""))
        #expect(!html.contains("http://") && !html.contains("https://"), "no external assets")
        #expect(routes.answer(method: .HEAD, uri: "/health").status == .ok)
    }

    @Test func healthIs503WithReasons() throws {
        let answer = Self.routes(healthy: false).answer(method: .GET, uri: "/health")
        #expect(answer.status == .serviceUnavailable)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
        #expect(json["status"] as? String == "unhealthy")
        #expect((json["reasons"] as? [String]) == ["worker notifier is backoff"])
    }

    @Test func badMethodsAndPathsAreRefused() {
        let routes = Self.routes()
        let post = routes.answer(method: .POST, uri: "/metrics")
        #expect(post.status == .methodNotAllowed)
        #expect(post.extraHeaders.contains { $0.0 == "Allow" && $0.1 == "GET, HEAD" })
        #expect(routes.answer(method: .GET, uri: "/nope").status == .notFound)
        #expect(routes.answer(method: .GET, uri: "/metrics/../etc").status == .notFound)
        #expect(routes.answer(method: .GET, uri: "http://evil/").status == .badRequest)
        #expect(routes.answer(method: .GET, uri: "/" + String(repeating: "a", count: 5000)).status == .badRequest)
    }
}

@Suite struct ObservationHubTests {
    @Test func onlyTheCurrentProcessOfAWorkerCountsAndMetricsAreKeptBetweenBeats() {
        let hub = ObservationHub(nodes: ["ws://a"])
        #expect(!hub.snapshot().published)
        hub.heartbeat(WorkerHeartbeat(worker: "notifier", pid: 5, sequence: 1, metrics: "# TYPE a counter\na 1\n"))
        hub.update(workers: [WorkerStatus(name: "notifier", role: .notifier, pid: 5, state: "running", uptimeSeconds: 1, restarts: 0, lastExit: nil)],
                   shuttingDown: false)
        #expect(hub.snapshot().reports["notifier"]?.metrics == "# TYPE a counter\na 1\n")
        // A beat without metrics (an older worker build) keeps the last exposition of the same process.
        hub.heartbeat(WorkerHeartbeat(worker: "notifier", pid: 5, sequence: 2))
        #expect(hub.snapshot().reports["notifier"]?.sequence == 2)
        #expect(hub.snapshot().reports["notifier"]?.metrics != nil)
        // Restarted: the old process's report no longer counts, and a new process starts from nothing.
        hub.update(workers: [WorkerStatus(name: "notifier", role: .notifier, pid: 6, state: "starting", uptimeSeconds: 0, restarts: 1, lastExit: "signal 9")],
                   shuttingDown: false)
        #expect(hub.snapshot().reports.isEmpty)
        hub.heartbeat(WorkerHeartbeat(worker: "notifier", pid: 6, sequence: 1))
        #expect(hub.snapshot().reports["notifier"]?.metrics == nil)
        #expect(hub.snapshot().published)
    }
}

@Suite struct StatusDocumentTests {
    static func snapshot(workers: [WorkerStatus], metrics: [String: String], ages: [String: Double] = [:]) -> ObservationHub.Snapshot {
        let now = ContinuousClock.now
        var reports: [String: ObservationHub.Report] = [:]
        for row in workers {
            guard let text = metrics[row.name], let pid = row.pid else { continue }
            reports[row.name] = .init(pid: pid, sequence: 1, metrics: text, status: [:],
                                      receivedAt: now - .milliseconds(Int64((ages[row.name] ?? 0.2) * 1000)))
        }
        return .init(workers: workers, reports: reports, shuttingDown: false, published: true, now: now, supervisorUptime: 5)
    }

    static func samples(_ snapshot: ObservationHub.Snapshot) -> [(worker: String, sample: ExpositionSample, type: String)] {
        snapshot.workers.flatMap { row -> [(worker: String, sample: ExpositionSample, type: String)] in
            guard let text = snapshot.reports[row.name]?.metrics else { return [] }
            return Exposition.parse(text).families.flatMap { family in family.samples.map { (row.name, $0, family.type) } }
        }
    }

    static let workers = [
        WorkerStatus(name: "fork-worker", role: .forkWorker, pid: 10, state: "running", uptimeSeconds: 9, restarts: 0, lastExit: nil),
        WorkerStatus(name: "node-watcher-0", role: .nodeWatcher, pid: 11, state: "running", uptimeSeconds: 9, restarts: 0, lastExit: nil),
        WorkerStatus(name: "node-watcher-1", role: .nodeWatcher, pid: 12, state: "running", uptimeSeconds: 9, restarts: 1, lastExit: "signal 9"),
    ]

    @Test func nodesFallBackToTheWatchersSeries() {
        let snapshot = Self.snapshot(workers: Self.workers, metrics: [
            "node-watcher-0": """
            # TYPE chain_alerter_watcher_best_height gauge
            chain_alerter_watcher_best_height{node="ws://a"} 120
            # TYPE chain_alerter_watcher_connected gauge
            chain_alerter_watcher_connected{node="ws://a"} 1
            # TYPE chain_alerter_watcher_rpc_latency histogram
            chain_alerter_watcher_rpc_latency_sum{node="ws://a",method="m"} 0.5
            chain_alerter_watcher_rpc_latency_count{node="ws://a",method="m"} 10
            """,
            "node-watcher-1": """
            # TYPE chain_alerter_watcher_best_height gauge
            chain_alerter_watcher_best_height{node="ws://b"} 100
            # TYPE chain_alerter_watcher_connected gauge
            chain_alerter_watcher_connected{node="ws://b"} 0
            """,
        ])
        let doc = StatusService.build(snapshot: snapshot, nodes: ["ws://a", "ws://b"], samples: Self.samples(snapshot), alerts: [],
                                      storeProblem: nil, openStall: nil, checkedHeight: 118)
        #expect(doc.nodes.map(\.url) == ["ws://a", "ws://b"])
        #expect(doc.nodes[0].height == 120 && doc.nodes[0].lag == 0 && doc.nodes[0].state == "healthy" && doc.nodes[0].primary)
        #expect(abs((doc.nodes[0].latencySeconds ?? 0) - 0.05) < 1e-9)
        #expect(doc.nodes[1].lag == 20 && doc.nodes[1].state == "disconnected" && !doc.nodes[1].primary)
        #expect(doc.bestBlock.height == 120 && doc.bestBlock.node == "ws://a" && doc.bestBlock.checkedHeight == 118)
        #expect(doc.openConditions.map(\.kind) == ["NodeDisconnected"])
        #expect(doc.health.healthy)
    }

    @Test func forkWorkerAndAlertWorkerSeriesWinWhenPresent() {
        let snapshot = Self.snapshot(workers: Self.workers, metrics: [
            "fork-worker": """
            # TYPE chain_alerter_node_best_height gauge
            chain_alerter_node_best_height{node="ws://a"} 130
            chain_alerter_node_best_height{node="ws://b"} 115
            # TYPE chain_alerter_node_lag_blocks gauge
            chain_alerter_node_lag_blocks{node="ws://a"} 0
            chain_alerter_node_lag_blocks{node="ws://b"} 15
            # TYPE chain_alerter_node_isolated gauge
            chain_alerter_node_isolated{node="ws://a"} 0
            chain_alerter_node_isolated{node="ws://b"} 1
            # TYPE chain_alerter_node_primary gauge
            chain_alerter_node_primary{node="ws://a"} 0
            chain_alerter_node_primary{node="ws://b"} 0
            # TYPE chain_alerter_condition_open gauge
            chain_alerter_condition_open{kind="NodeIsolated",node="ws://b"} 1
            chain_alerter_condition_open{kind="BlockStall",node="ws://a"} 0
            """,
            "node-watcher-0": "# TYPE chain_alerter_watcher_best_height gauge\nchain_alerter_watcher_best_height{node=\"ws://a\"} 129\n",
            "node-watcher-1": "# TYPE chain_alerter_watcher_best_height gauge\nchain_alerter_watcher_best_height{node=\"ws://b\"} 115\n",
        ], ages: ["node-watcher-0": 10])
        let doc = StatusService.build(snapshot: snapshot, nodes: ["ws://a", "ws://b"], samples: Self.samples(snapshot), alerts: [],
                                      storeProblem: nil, openStall: nil, checkedHeight: nil)
        #expect(doc.nodes[0].height == 130)
        #expect(doc.nodes[0].state == "stale", "its watcher's last heartbeat is 10 s old")
        #expect(doc.nodes[1].state == "isolated" && doc.nodes[1].lag == 15)
        #expect(doc.bestBlock.height == 130, "the isolated node never counts")
        #expect(doc.openConditions.map(\.kind) == ["NodeIsolated"])
        #expect(!doc.health.healthy)
        #expect(doc.health.reasons.contains { $0.hasPrefix("no healthy node") })
    }

    @Test func aWorkerNotRunningMakesItUnhealthy() {
        var workers = Self.workers
        workers[0].state = "backoff"
        workers[0].pid = nil
        let snapshot = Self.snapshot(workers: workers, metrics: [
            "node-watcher-0": "# TYPE chain_alerter_watcher_best_height gauge\nchain_alerter_watcher_best_height{node=\"ws://a\"} 1\n",
        ])
        let doc = StatusService.build(snapshot: snapshot, nodes: ["ws://a"], samples: Self.samples(snapshot), alerts: [],
                                      storeProblem: nil, openStall: nil, checkedHeight: nil)
        #expect(!doc.health.healthy)
        #expect(doc.health.reasons == ["worker fork-worker is backoff"])
    }
}
