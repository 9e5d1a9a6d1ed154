import Foundation
import MetricsTestKit
import Testing
@testable import notifier
@testable import Store
@testable import HTTPClient
@testable import WorkerRuntime
@testable import Wire
import TestKit


/// The Slack sink against the Slack double over real sockets.
@Suite("Slack", .serialized, .timeLimit(.minutes(2)))
struct SlackTests {
    func memoryStore() throws -> AlertStore {
        try AlertStore(location: .sqliteMemory(name: "slack-" + UUID().uuidString), logger: testLogger)
    }

    func slackConfig(_ fake: FakeSinks, _ dir: TemporaryDirectory, extra: [String] = []) throws -> Configuration {
        let tokenPath = try writeToken(fake.token, in: dir)
        return try testConfiguration(["--slack-secret-path", tokenPath, "--slack-api-url", fake.slackAPI, "--name", "Mainnet",
                                      "--icon", "zap", "--node-rpc-url", "ws://127.0.0.1:9944", "--node-rpc-url", "ws://127.0.0.1:9945"] + extra)
    }

    @Test("layout, metadata, channels, paging, token and per-channel rate limit")
    func postsMessages() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSinks.start(dir: dir, pageSize: 1, channels: "random:C0RAND,chain-alerts-test:C0TEST,old:C0OLD,chain-alerts:C0PROD")
        defer { fake.stop() }
        let config = try slackConfig(fake, dir, extra: ["--production"])
        let store = try memoryStore()
        let startup = testAlert(0, kind: .startup)
        let alerts = [startup] + (1 ... 3).map { testAlert($0) }
        try store.insertAlerts(alerts)
        let running = RunningNotifier(configuration: config, store: store, token: fake.token)
        let done = await eventually(timeout: .seconds(20)) { fake.requests().postedSlackIDs.count == 4 }
        #expect(await running.stop() == 0)
        #expect(done)
        let requests = fake.requests()
        #expect(requests.allSatisfy { $0["auth_ok"] as? Bool == true }, "every call carries the bearer token")
        #expect(requests.first?["endpoint"] as? String == "auth.test")
        let lists = requests.filter { $0["endpoint"] as? String == "conversations.list" }
        #expect(lists.count == 4, "paged until both channels are found")
        #expect(lists.allSatisfy { ($0["query"] as? [String: String])?["exclude_archived"] == "true" })
        #expect(requests.postedSlackIDs == alerts.map(\.id))

        let posts = requests.filter { $0["endpoint"] as? String == "chat.postMessage" }
        let bodies = posts.compactMap { $0["body"] as? [String: Any] }
        #expect(bodies.map { $0["channel"] as? String } == ["C0TEST", "C0PROD", "C0PROD", "C0PROD"], "startup always to the test channel")
        let first = try #require(bodies.first)
        #expect(first["username"] as? String == "Mainnet Chain Alerts Tester")
        #expect(first["icon_emoji"] as? String == ":zap:")
        let blocks = try #require(first["blocks"] as? [[String: Any]])
        #expect(blocks.map { $0["type"] as? String } == ["markdown", "divider", "markdown", "context"])
        #expect(blocks[0]["text"] as? String == startup.text)
        #expect((blocks[2]["text"] as? String)?.hasPrefix("Current Block: [0x0000…0000](https://autonomys.subscan.io/block/") == true)
        let context = try #require((blocks[3]["elements"] as? [[String: Any]])?.first)
        let contextText = try #require(context["text"] as? String)
        #expect(contextText.contains("Mainnet") && contextText.contains("ws://127.0.0.1:9944, ws://127.0.0.1:9945") && contextText.contains(chainAlerterVersion))
        #expect(context["verbatim"] as? Bool == true)
        let metadata = try #require(first["metadata"] as? [String: Any])
        #expect(metadata["event_type"] as? String == "chain_alert")
        let eventPayload = try #require(metadata["event_payload"] as? NSDictionary)
        let webhookObject = try #require(try JSONSerialization.jsonObject(with: startup.jsonData()) as? NSDictionary)
        #expect(eventPayload["id"] as? String == startup.id)
        #expect(Set(eventPayload.allKeys.compactMap { $0 as? String }) == Set(webhookObject.allKeys.compactMap { $0 as? String }))

        // About one message per second per channel (300 ms in this test's tuning).
        let prodTimes = posts.filter { ($0["body"] as? [String: Any])?["channel"] as? String == "C0PROD" }.compactMap { $0["t"] as? Double }
        // Measured at the receiver, single gaps jitter with the machine's load; the span cannot be shorter.
        if let a = prodTimes.first, let b = prodTimes.last {
            #expect(b - a >= 0.3 * Double(prodTimes.count - 1) - 0.05, "rate limit per channel (span \(b - a) s)")
        }
    }

    @Test("invalid_auth at start exits 78 with a message that says the token is wrong")
    func invalidAuth() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSinks.start(dir: dir, token: "xoxb-the-right-one")
        defer { fake.stop() }
        let tokenPath = try writeToken("xoxb-WRONG", in: dir)
        let config = try testConfiguration(["--slack-secret-path", tokenPath, "--slack-api-url", fake.slackAPI])
        let store = try memoryStore()
        try store.insertAlerts([testAlert(1)])
        let running = RunningNotifier(configuration: config, store: store, token: "xoxb-WRONG")
        #expect(await running.task.value == ConfigError.exitCode)
        #expect(fake.requests(endpoint: "chat.postMessage").isEmpty)
    }

    @Test("429 with Retry-After and 500 are retried; channel_not_found fails once, counted, not retried")
    func postFaults() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSinks.start(dir: dir, faults: ["chat.postMessage": ["429:1", "500", "slack:channel_not_found"]])
        defer { fake.stop() }
        let config = try slackConfig(fake, dir)
        let store = try memoryStore()
        try store.insertAlerts([testAlert(1), testAlert(2)])
        let running = RunningNotifier(configuration: config, store: store, token: fake.token)
        let done = await eventually(timeout: .seconds(15)) { fake.requests().postedSlackIDs == [testAlert(2).id] }
        try await Task.sleep(for: .milliseconds(500))
        #expect(await running.stop() == 0)
        #expect(done)
        let posts = fake.requests(endpoint: "chat.postMessage")
        #expect(posts.count == 4, "429, 500, channel_not_found for the first alert; then the second")
        let t = posts.compactMap { $0["t"] as? Double }
        #expect(t[1] - t[0] >= 0.95, "Retry-After honoured")
        let counts = try Outbox(store: store).counts(sink: "slack")
        #expect(counts[.failed] == 1 && counts[.delivered] == 1)
        #expect(running.metrics.counterTotal(label: NotifierMetrics.permanentFailuresLabel, dimensions: [("sink", "slack")]) == 1)
    }

    @Test("an in-doubt delivery already in the channel is not posted again")
    func reconcileInDoubt() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSinks.start(dir: dir)
        defer { fake.stop() }
        let config = try slackConfig(fake, dir)
        let store = try memoryStore()
        let (posted, lost) = (testAlert(1), testAlert(2))
        try store.insertAlerts([posted, lost])
        // A previous process marked both `sending`, posted the first, and died before marking anything.
        let outbox = Outbox(store: store)
        try outbox.register(sink: "slack")
        try outbox.enqueueNew(sink: "slack")
        for a in [posted, lost] { _ = try outbox.markSending(rowID: try #require(try store.alert(id: a.id)).rowID, sink: "slack") }
        let client = CurlHTTPClient(threads: 1, logger: testLogger)
        let body: [String: Any] = ["channel": "C0TEST", "blocks": [], "metadata": ["event_type": "chain_alert",
                                   "event_payload": try JSONSerialization.jsonObject(with: posted.jsonData())]]
        let response = try await client.send(HTTPRequest(method: "POST", url: fake.slackAPI + "chat.postMessage",
                                                         headers: [("Content-Type", "application/json")],
                                                         body: try JSONSerialization.data(withJSONObject: body),
                                                         bearerToken: Secret(bytes: Array(fake.token.utf8))))
        #expect(response.status == 200)

        let running = RunningNotifier(configuration: config, store: store, token: fake.token)
        let done = try await eventually(timeout: .seconds(10)) { try outbox.counts(sink: "slack")[.delivered] == 2 }
        #expect(await running.stop() == 0)
        #expect(done)
        #expect(fake.requests().postedSlackIDs == [posted.id, lost.id], "each alert in the channel exactly once")
        #expect(running.metrics.counterTotal(label: NotifierMetrics.inDoubtReconciledLabel, dimensions: [("sink", "slack")]) == 1)
        #expect(running.metrics.counterTotal(label: NotifierMetrics.inDoubtResendsLabel, dimensions: [("sink", "slack")]) == 1)
        let history = fake.requests(endpoint: "conversations.history")
        #expect(history.count == 2)
        #expect(history.allSatisfy { ($0["query"] as? [String: String])?["include_all_metadata"] == "true" })
    }
}
