import Foundation
import MetricsTestKit
import Testing
@testable import notifier
@testable import Store
@testable import HTTPClient
@testable import WorkerRuntime
@testable import Wire
import TestKit


/// In-process notifier against the Python fake over real sockets.
@Suite("Delivery", .serialized, .timeLimit(.minutes(2)))
struct DeliveryTests {
    func memoryStore() throws -> AlertStore {
        try AlertStore(location: .sqliteMemory(name: "deliv-" + UUID().uuidString), logger: testLogger)
    }

    @Test("webhooks: 500s, 429 + Retry-After, timeouts and connection refused; every alert exactly once")
    func webhookFaults() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let flaky = try await FakeSinks.start(dir: dir, name: "flaky", faults: ["webhook": ["500", "500", "429:1", "slow:2", "503", "ok", "slow:2", "500"]])
        defer { flaky.stop() }
        // Nothing listens on this port for the first 2 s: connection refused.
        let latePort = freePort()
        let late = try await FakeSinks.start(dir: dir, name: "late", port: latePort, delayStart: 2)
        defer { late.stop() }
        let lateURL = "http://127.0.0.1:\(latePort)/hook/late"
        let config = try testConfiguration(["--slack=false", "--webhook-url", flaky.webhook(), "--webhook-url", lateURL])
        let store = try memoryStore()
        let running = RunningNotifier(configuration: config, store: store)
        let alerts = (0 ..< 20).map { testAlert($0) }
        for chunk in stride(from: 0, to: alerts.count, by: 5) {
            try store.commitBlock(alerts: Array(alerts[chunk ..< chunk + 5]), cursor: StoreCursor(name: "alert-worker", height: UInt64(chunk), hash: "0x"))
        }
        let ids = Set(alerts.map(\.id))
        let done = await eventually(timeout: .seconds(40)) {
            Set(flaky.requests().acceptedWebhookIDs) == ids && Set(late.requests().acceptedWebhookIDs) == ids
        }
        #expect(await running.stop() == 0)
        #expect(done)
        for fake in [flaky, late] {
            let accepted = fake.requests().acceptedWebhookIDs
            #expect(accepted.count == ids.count, "each id accepted once")
            #expect(Set(accepted) == ids)
            // Order is kept per sink.
            #expect(accepted == alerts.map(\.id))
        }
        let flakyRequests = flaky.requests(endpoint: "webhook")
        // A scripted timeout makes a raw resend possible; it must carry the same idempotency key, never a new one.
        #expect(flakyRequests.allSatisfy { ($0["headers"] as? [String: Any])?["content-type"] as? String == "application/json" })
        // Retry-After: 1 was honoured: the request after the 429 came ≥ 1 s later.
        if let i = flakyRequests.firstIndex(where: { $0["status"] as? Int == 429 }) {
            let gap = (flakyRequests[i + 1]["t"] as! Double) - (flakyRequests[i]["t"] as! Double)
            #expect(gap >= 0.95, "Retry-After honoured (gap \(gap))")
        } else {
            Issue.record("the 429 was not exercised")
        }
        #expect(flakyRequests.filter { $0["fault"] as? String == "slow:2" }.count >= 1, "a timeout was exercised")
        // The webhook body is the INTERFACE object.
        let body = try #require(flakyRequests.last?["body"] as? [String: Any])
        #expect(body["id"] != nil && body["observed_at"] != nil && body.keys.contains("event"))
        let counts = try Outbox(store: store).counts(sink: WebhookSink(url: flaky.webhook(), client: CurlHTTPClient(logger: testLogger), logger: testLogger).name)
        #expect(counts[.delivered] == 20)
    }

    @Test("a sink that is down does not hold up the others; permanent 4xx is not retried")
    func independentSinks() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let good = try await FakeSinks.start(dir: dir, name: "good")
        defer { good.stop() }
        let gone = try await FakeSinks.start(dir: dir, name: "gone", faults: ["webhook": ["410"]])
        defer { gone.stop() }
        let deadURL = "http://127.0.0.1:\(freePort())/hook/dead"
        let config = try testConfiguration(["--slack=false", "--webhook-url", good.webhook(), "--webhook-url", deadURL, "--webhook-url", gone.webhook()])
        let store = try memoryStore()
        let running = RunningNotifier(configuration: config, store: store)
        let alerts = (0 ..< 10).map { testAlert($0) }
        try store.insertAlerts(alerts)
        let done = await eventually(timeout: .seconds(10)) { good.requests().acceptedWebhookIDs.count == 10 && gone.requests().acceptedWebhookIDs.count == 9 }
        #expect(await running.stop() == 0)
        #expect(done)
        let goneRequests = gone.requests(endpoint: "webhook")
        #expect(goneRequests.count == 10, "the 410 is not retried")
        let outbox = Outbox(store: store)
        let dead = WebhookSink(url: deadURL, client: CurlHTTPClient(logger: testLogger), logger: testLogger).name
        #expect(try outbox.counts(sink: dead)[.delivered] == nil)
        #expect(try outbox.counts(sink: dead)[.pending] == 10, "nothing lost while the sink is down")
        let goneName = WebhookSink(url: gone.webhook(), client: CurlHTTPClient(logger: testLogger), logger: testLogger).name
        #expect(try outbox.counts(sink: goneName)[.failed] == 1)
        #expect(running.metrics.counterTotal(label: NotifierMetrics.permanentFailuresLabel, dimensions: [("sink", goneName)]) == 1)
        #expect(running.metrics.counterTotal(label: NotifierMetrics.deliveriesLabel, dimensions: [("sink", dead), ("result", "retry")]) >= 1)
    }

    @Test("--alert-limit counts alerts delivered to every sink, then exits 0")
    func alertLimit() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSinks.start(dir: dir)
        defer { fake.stop() }
        let config = try testConfiguration(["--slack=false", "--webhook-url", fake.webhook(), "--alert-limit", "3"])
        let store = try memoryStore()
        try store.insertAlerts((0 ..< 6).map { testAlert($0) })
        let running = RunningNotifier(configuration: config, store: store)
        let code = await running.task.value
        #expect(code == 0)
        #expect(fake.requests().acceptedWebhookIDs == (0 ..< 3).map { testAlert($0).id })
    }

    @Test("--test-startup delivers only the Startup alert, then exits 0")
    func testStartup() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSinks.start(dir: dir)
        defer { fake.stop() }
        let config = try testConfiguration(["--slack=false", "--webhook-url", fake.webhook(), "--test-startup"])
        let store = try memoryStore()
        try store.insertAlerts([testAlert(0), testAlert(1, kind: .startup), testAlert(2)])
        let running = RunningNotifier(configuration: config, store: store)
        #expect(await running.task.value == 0)
        #expect(fake.requests().acceptedWebhookIDs == [testAlert(1, kind: .startup).id])
    }

    @Test("uptime kuma: STARTUP before the first block, up with the height, down while stalled")
    func uptimeKuma() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSinks.start(dir: dir)
        defer { fake.stop() }
        let config = try testConfiguration(["--slack=false", "--uptime-kuma-url", fake.base + "/push/abc?status=up&msg=OK&ping="])
        let store = try memoryStore()
        let running = RunningNotifier(configuration: config, store: store)
        func pushes() -> [[String: String]] { fake.requests(endpoint: "push").compactMap { $0["query"] as? [String: String] } }
        #expect(await eventually(timeout: .seconds(5)) { pushes().contains { $0["msg"] == "STARTUP" && $0["status"] == "down" } })
        try store.commitBlock(alerts: [], cursor: StoreCursor(name: "alert-worker", height: 77, hash: "0x"))
        #expect(await eventually(timeout: .seconds(5)) { pushes().contains { $0["status"] == "up" && $0["ping"] == "77" && $0["msg"] == "OK" } })
        try store.insertAlerts([testAlert(1, kind: .blockStall)])
        #expect(await eventually(timeout: .seconds(5)) { pushes().last?["status"] == "down" && pushes().last?["msg"]?.hasPrefix("STALLED") == true })
        try store.insertAlerts([testAlert(2, kind: .blockResumed)])
        #expect(await eventually(timeout: .seconds(5)) { pushes().last?["status"] == "up" })
        #expect(await running.stop() == 0)
    }
}

@Suite("Wake-up", .serialized, .timeLimit(.minutes(1)))
struct WakeUpTests {
    @Test("an AlertDoorbell from another store connection wakes the notifier at once")
    func doorbell() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSinks.start(dir: dir)
        defer { fake.stop() }
        let path = dir.file("store.sqlite")
        let config = try testConfiguration(["--slack=false", "--webhook-url", fake.webhook(), "--state-dir", dir.path])
        var tuning = fastTuning()
        tuning.doorbell = true
        tuning.dataVersionPolling = false
        tuning.pollInterval = .seconds(30)
        let notifierStore = try AlertStore(location: .sqliteFile(path: path), logger: testLogger)
        let running = RunningNotifier(configuration: config, store: notifierStore, tuning: tuning)
        try await Task.sleep(for: .milliseconds(300))
        // The alert-worker: its own connection, then the doorbell.
        let workerStore = try AlertStore(location: .sqliteFile(path: path), logger: testLogger)
        let commit = try workerStore.insertAlerts([testAlert(1)])
        let bell = try BusLoop(name: "test-bell", sockets: [SocketSpec(name: "bell", kind: .push,
                               attachments: [.connect(AlertDoorbellListener.endpoint(stateDirectory: dir.path))])], logger: testLogger)
        defer { bell.close() }
        var writer = EnvelopeWriter(sender: "alert-worker")
        try bell.send(try writer.seal(AlertDoorbell(highestRowID: commit.lastRowID, newRows: 1)))
        let arrived = await eventually(timeout: .seconds(5)) { fake.requests().acceptedWebhookIDs == [testAlert(1).id] }
        #expect(await running.stop() == 0)
        #expect(arrived, "delivered well before the 30 s poll")
    }
}
