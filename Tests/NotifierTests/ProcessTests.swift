import Foundation
import Testing
@testable import notifier
@testable import Store
@testable import HTTPClient
@testable import WorkerRuntime
@testable import Wire
import TestKit


/// The built `notifier` executable as a real process.
@Suite("Notifier process", .serialized, .timeLimit(.minutes(3)))
struct ProcessTests {
    /// `notifier` next to the test binary (`swift build --build-tests` builds both).
    static var executable: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0 ..< 4 {
            let candidate = dir.appendingPathComponent("notifier").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/notifier").path
    }

    func start(_ args: [String], in dir: TemporaryDirectory, run: Int, env extra: [String: String] = [:]) throws -> ChildProcess {
        var env = ProcessInfo.processInfo.environment
        env["CHAIN_ALERTER_LOG_LEVEL"] = "trace"
        for (k, v) in extra { env[k] = v }
        return try ChildProcess(Self.executable, args, environment: env,
                                stdoutPath: dir.file("notifier-\(run).out"), stderrPath: dir.file("notifier-\(run).err"))
    }

    @Test("kill -9 in the middle of a burst of 200 alerts: after restarts every alert arrives, none accepted twice")
    func killNine() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSinks.start(dir: dir)
        defer { fake.stop() }
        let storeURL = "sqlite://\(dir.file("store.sqlite"))"
        let args = ["--slack=false", "--webhook-url", fake.webhook(), "--store", storeURL, "--state-dir", dir.path]
        let store = try AlertStore(location: .sqliteFile(path: dir.file("store.sqlite")), logger: testLogger)
        let alerts = (0 ..< 200).map { testAlert($0, prefix: "k9") }
        let ids = Set(alerts.map(\.id))

        var run = 0
        var notifier = try start(args, in: dir, run: run)
        defer { notifier.killAndReap() }
        // The alert-worker's burst: 10 alerts per block commit, every 80 ms.
        let writer = Task {
            for (i, chunk) in stride(from: 0, to: 200, by: 10).enumerated() {
                try store.commitBlock(alerts: Array(alerts[chunk ..< chunk + 10]),
                                      cursor: StoreCursor(name: AlertStore.alertWorkerCursor, height: UInt64(i), hash: "0x"))
                try await Task.sleep(for: .milliseconds(80))
            }
        }
        var kills = 0
        for threshold in [40, 120] {
            #expect(await eventually(timeout: .seconds(30)) { fake.requests().acceptedWebhookIDs.count >= threshold })
            notifier.signal(SIGKILL)
            #expect(await notifier.wait(timeout: .seconds(5)) == 137)
            kills += 1
            run += 1
            notifier = try start(args, in: dir, run: run)
        }
        try await writer.value
        let all = await eventually(timeout: .seconds(60)) { Set(fake.requests().acceptedWebhookIDs) == ids }
        notifier.signal(SIGTERM)
        #expect(await notifier.wait(timeout: .seconds(15)) == 0, "SIGTERM: graceful exit 0")
        #expect(all, "every alert arrived")

        let requests = fake.requests(endpoint: "webhook")
        let accepted = requests.acceptedWebhookIDs
        #expect(accepted.count == 200 && Set(accepted) == ids, "each alert accepted exactly once")
        let duplicates = requests.filter { $0["duplicate"] as? Bool == true }
        #expect(duplicates.count <= kills, "at most one in-doubt resend per crash (got \(duplicates.count))")
        #expect(duplicates.allSatisfy { ($0["headers"] as? [String: Any])?["x-chain-alerter-in-doubt"] as? String == "true" },
                "a raw duplicate is only ever an in-doubt resend carrying the same idempotency key")
        let inDoubtLogLines = (0 ... run).map { String(decoding: FileManager.default.contents(atPath: dir.file("notifier-\($0).err")) ?? Data(), as: UTF8.self) }
            .joined().components(separatedBy: "resending an in-doubt delivery").count - 1
        print("kill -9 test: \(kills) kills, \(duplicates.count) raw duplicate webhook request(s), \(inDoubtLogLines) in-doubt resend(s) logged")
        #expect(inDoubtLogLines <= 2 * kills, "at most one in-doubt row per sink (webhook, terminal) per crash")
        let outbox = Outbox(store: store)
        let sink = WebhookSink(url: fake.webhook(), client: CurlHTTPClient(logger: testLogger), logger: testLogger).name
        #expect(try outbox.counts(sink: sink)[.delivered] == 200)
        #expect(try outbox.counts(sink: "terminal")[.delivered] == 200)
    }

    @Test("SIGTERM during an in-flight attempt: the attempt finishes, the rest stays pending, exit 0; a restart delivers it")
    func gracefulShutdown() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSinks.start(dir: dir, faults: ["webhook": ["slow:2"]])
        defer { fake.stop() }
        let storePath = dir.file("store.sqlite")
        let store = try AlertStore(location: .sqliteFile(path: storePath), logger: testLogger)
        let alerts = (0 ..< 5).map { testAlert($0, prefix: "gs") }
        try store.insertAlerts(alerts)
        let args = ["--slack=false", "--webhook-url", fake.webhook(), "--store", "sqlite://\(storePath)", "--state-dir", dir.path]
        var notifier = try start(args, in: dir, run: 0)
        defer { notifier.killAndReap() }
        // The first attempt is in flight (the receiver holds it for 2 s) when SIGTERM arrives.
        #expect(await eventually(timeout: .seconds(20)) { (try? Outbox(store: store).counts(sink: "terminal")[.delivered]) == 5 })
        try await Task.sleep(for: .milliseconds(300))
        let asked = ContinuousClock.now
        notifier.signal(SIGTERM)
        #expect(await notifier.wait(timeout: .seconds(12)) == 0)
        #expect(ContinuousClock.now - asked < .seconds(9), "bounded by the in-flight attempt, not a fixed sleep")
        #expect(fake.requests().acceptedWebhookIDs.isEmpty)
        let hook = WebhookSink(url: fake.webhook(), client: CurlHTTPClient(logger: testLogger), logger: testLogger).name
        #expect(try Outbox(store: store).counts(sink: hook)[.pending] == 5, "nothing lost, nothing in doubt")
        notifier = try start(args, in: dir, run: 1)
        #expect(await eventually(timeout: .seconds(20)) { fake.requests().acceptedWebhookIDs == alerts.map(\.id) })
        notifier.signal(SIGTERM)
        #expect(await notifier.wait(timeout: .seconds(12)) == 0)
    }

    @Test("libcurl is mapped only by a notifier that talks HTTP: terminal-only delivers without it, a webhook notifier loads it")
    func libcurlOnlyWhenNeeded() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSinks.start(dir: dir)
        defer { fake.stop() }
        // procfs files report size 0, so read them to the end through a handle.
        func maps(_ pid: pid_t) -> String {
            FileHandle(forReadingAtPath: "/proc/\(pid)/maps").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
        }
        let store = try AlertStore(location: .sqliteFile(path: dir.file("store.sqlite")), logger: testLogger)
        let storeURL = "sqlite://\(dir.file("store.sqlite"))"
        let alert = testAlert(1, prefix: "curl")
        try store.commitBlock(alerts: [alert], cursor: StoreCursor(name: AlertStore.alertWorkerCursor, height: 1, hash: "0x"))

        // Terminal only: the alert is printed, and libcurl never enters the process.
        let terminal = try start(["--slack=false", "--store", storeURL, "--state-dir", dir.path], in: dir, run: 0)
        defer { terminal.killAndReap() }
        let printed = await eventually(timeout: .seconds(30)) {
            ((try? String(contentsOfFile: terminal.stdoutPath, encoding: .utf8)) ?? "").contains(alert.id)
        }
        #expect(printed, "the terminal sink printed the alert")
        let terminalMaps = maps(terminal.pid)
        #expect(terminalMaps.contains("libsqlite3.so"), "the whole map was read (the store's library is in it)")
        #expect(!terminalMaps.contains("libcurl.so"), "a notifier without HTTP sinks does not map libcurl")
        terminal.signal(SIGTERM)
        #expect(await terminal.wait(timeout: .seconds(15)) == 0)

        // A webhook sink: libcurl is loaded (at start-up) and the alert arrives over real HTTP.
        let webhook = try start(["--slack=false", "--webhook-url", fake.webhook(), "--store", storeURL, "--state-dir", dir.path],
                                in: dir, run: 1)
        defer { webhook.killAndReap() }
        #expect(await eventually(timeout: .seconds(30)) { fake.requests().acceptedWebhookIDs == [alert.id] })
        #expect(maps(webhook.pid).contains("libcurl.so"), "a notifier with an HTTP sink loads libcurl")
        webhook.signal(SIGTERM)
        #expect(await webhook.wait(timeout: .seconds(15)) == 0)
    }

    @Test("a token file with mode 0644 exits 78 naming the file and the fix")
    func tokenMode() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try writeToken("xoxb-mode-test", in: dir, mode: 0o644)
        let p = try start(["--slack-secret-path", path, "--state-dir", dir.path], in: dir, run: 0)
        #expect(await p.wait(timeout: .seconds(20)) == 78)
        #expect(p.output.contains(path))
        #expect(p.output.contains("chmod 600 \(path)"))
        #expect(!p.output.contains("xoxb-mode-test"))

        let empty = dir.file("empty-secret")
        _ = FileManager.default.createFile(atPath: empty, contents: Data(" \n".utf8))
        chmod(empty, 0o600)
        let q = try start(["--slack-secret-path", empty, "--state-dir", dir.path], in: dir, run: 1)
        #expect(await q.wait(timeout: .seconds(20)) == 78)
        #expect(q.output.contains("is empty"))
    }

    @Test("the token never appears in any output, log, error or the store; the systemd credential is accepted")
    func tokenNeverLeaks() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let token = "xoxb-CANARY-" + UUID().uuidString
        let fake = try await FakeSinks.start(dir: dir, token: token)
        defer { fake.stop() }
        // The systemd credential: $CREDENTIALS_DIRECTORY/slack-secret, no --slack-secret-path.
        let credentials = dir.file("credentials")
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try Data("  \(token)\n\n".utf8).write(to: URL(fileURLWithPath: credentials + "/slack-secret"))
        chmod(credentials + "/slack-secret", 0o400)
        let storePath = dir.file("store.sqlite")
        let store = try AlertStore(location: .sqliteFile(path: storePath), logger: testLogger)
        try store.insertAlerts([testAlert(0, kind: .startup), testAlert(1), testAlert(2)])
        let good = try start(["--slack-api-url", fake.slackAPI, "--store", "sqlite://\(storePath)", "--state-dir", dir.path,
                              "--alert-limit", "3", "--webhook-url", fake.webhook()],
                             in: dir, run: 0, env: ["CREDENTIALS_DIRECTORY": credentials])
        #expect(await good.wait(timeout: .seconds(30)) == 0, "exits 0 after --alert-limit 3")
        #expect(fake.requests().postedSlackIDs.count == 3)
        #expect(fake.requests(endpoint: "auth.test").allSatisfy { $0["auth_ok"] as? Bool == true }, "the trimmed token was sent")

        // A wrong token (the fake expects another): exit 78, and still no token in the output.
        let wrong = "xoxb-WRONG-" + UUID().uuidString
        let wrongPath = try writeToken(wrong, in: dir)
        let bad = try start(["--slack-secret-path", wrongPath, "--slack-api-url", fake.slackAPI, "--store", "sqlite://\(storePath)",
                             "--state-dir", dir.path], in: dir, run: 1)
        #expect(await bad.wait(timeout: .seconds(30)) == 78)
        #expect(bad.output.contains("token is wrong"))

        // Grep everything the processes wrote, and the store.
        var files = try FileManager.default.contentsOfDirectory(atPath: dir.path).map { dir.file($0) }
        files = files.filter { !$0.hasSuffix("slack-secret") && !$0.hasSuffix("credentials") }
        #expect(files.contains { $0.hasSuffix(".err") })
        for file in files {
            let content = String(decoding: FileManager.default.contents(atPath: file) ?? Data(), as: UTF8.self)
            #expect(!content.contains(token), "token found in \(file)")
            #expect(!content.contains(wrong), "wrong token found in \(file)")
        }
        #expect(good.output.contains("slack ready"), "the logs were captured")
    }
}

@Suite("Notifier process, Slack", .serialized, .timeLimit(.minutes(2)))
struct SlackProcessTests {
    @Test("kill -9 while Slack has accepted a post but not answered: after restart the post is found, never repeated")
    func killNineSlack() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let token = "xoxb-k9-" + UUID().uuidString
        let fake = try await FakeSinks.start(dir: dir, token: token, faults: ["chat.postMessage": ["ok", "ok", "slowok:5"]])
        defer { fake.stop() }
        let tokenPath = try writeToken(token, in: dir)
        let storePath = dir.file("store.sqlite")
        let store = try AlertStore(location: .sqliteFile(path: storePath), logger: testLogger)
        let alerts = [testAlert(0, kind: .startup, prefix: "s9")] + (1 ..< 6).map { testAlert($0, prefix: "s9") }
        try store.insertAlerts(alerts)
        let args = ["--slack-secret-path", tokenPath, "--slack-api-url", fake.slackAPI, "--webhook-url", fake.webhook(),
                    "--store", "sqlite://\(storePath)", "--state-dir", dir.path]
        let tests = ProcessTests()
        var notifier = try tests.start(args, in: dir, run: 0)
        defer { notifier.killAndReap() }
        let slow = await eventually(timeout: .seconds(30)) {
            fake.requests(endpoint: "chat.postMessage").contains { $0["fault"] as? String == "slowok:5" }
        }
        #expect(slow, "the third post reached Slack")
        notifier.signal(SIGKILL)
        #expect(await notifier.wait(timeout: .seconds(5)) == 137)
        notifier = try tests.start(args, in: dir, run: 1)
        let ids = alerts.map(\.id)
        let all = await eventually(timeout: .seconds(40)) {
            Set(fake.requests().postedSlackIDs) == Set(ids) && Set(fake.requests().acceptedWebhookIDs) == Set(ids)
        }
        notifier.signal(SIGTERM)
        #expect(await notifier.wait(timeout: .seconds(15)) == 0)
        #expect(all, "every alert reached Slack and the webhook")
        #expect(fake.requests().postedSlackIDs == ids, "each alert posted to Slack exactly once, in order")
        #expect(fake.requests(endpoint: "conversations.history").count >= 1, "the in-doubt post was reconciled from history")
        #expect(fake.requests().acceptedWebhookIDs.count == ids.count)
        #expect(!(notifier.output + (FileManager.default.contents(atPath: dir.file("notifier-0.err")).map { String(decoding: $0, as: UTF8.self) } ?? "")).contains(token))
    }
}
