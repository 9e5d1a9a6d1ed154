import Foundation
import Testing
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// A scratch directory removed when the test ends.
final class ScratchDirectory {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ content: String, mode: Int = 0o644) -> String {
        let file = path + "/" + name
        _ = FileManager.default.createFile(atPath: file, contents: Data(content.utf8))
        chmod(file, mode_t(mode))
        return file
    }
}

@Suite struct ConfigTests {
    func resolve(_ args: [String], env: [String: String] = [:], in dir: ScratchDirectory) throws(ConfigError) -> Configuration {
        let options: ChainAlerterOptions
        do { options = try ChainAlerterOptions.parse(args) } catch { Issue.record("parse failed: \(error)"); throw ConfigError(option: "", problem: "", fix: "") }
        return try ConfigLoader.resolve(options: options, environment: env, workingDirectory: dir.path)
    }

    @Test func defaultsMatchTheInterface() throws {
        let dir = ScratchDirectory()
        let c = try resolve(["--slack=false"], in: dir)
        #expect(c.nodeRPCURLs == ["ws://127.0.0.1:9944"])
        #expect(c.name == "Dev")
        #expect(c.icon == "robot_face")
        #expect(c.production == false)
        #expect(c.slack == false)
        #expect(c.slackAPIURL == "https://slack.com/api/")
        #expect(c.slackChannel == "chain-alerts-test")
        #expect(c.slackProductionChannel == "chain-alerts")
        #expect(c.stateDirectory == dir.path + "/state")
        #expect(c.store == .sqliteFile(path: dir.path + "/state/chain-alerter.sqlite"))
        #expect(c.httpListen == ListenAddress(host: "127.0.0.1", port: 9616))
        #expect(c.alerts == AlertThresholds())
        #expect(c.alerts.blockStall == .seconds(65))
        #expect(c.alerts.nodeLagIsolate == 10)
    }

    @Test func commandLineBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let dir = ScratchDirectory()
        let file = dir.write("c.toml", """
        name = "FromFile"
        icon = "file_icon"
        slack_channel = "file-channel"
        slack = false
        """)
        let env = ["CHAIN_ALERTER_NAME": "FromEnv", "CHAIN_ALERTER_ICON": "env_icon"]
        let c = try resolve(["--config", file, "--name", "FromCLI"], env: env, in: dir)
        #expect(c.name == "FromCLI")
        #expect(c.icon == "env_icon")
        #expect(c.slackChannel == "file-channel")
        #expect(c.slackProductionChannel == "chain-alerts")
        #expect(c.slack == false)
    }

    @Test func environmentListsAndBooleans() throws {
        let dir = ScratchDirectory()
        let env = ["CHAIN_ALERTER_NODE_RPC_URL": "ws://a:1, wss://b:2", "CHAIN_ALERTER_SLACK": "false", "CHAIN_ALERTER_PRODUCTION": "yes",
                   "CHAIN_ALERTER_ALERT_LIMIT": "3"]
        let c = try resolve([], env: env, in: dir)
        #expect(c.nodeRPCURLs == ["ws://a:1", "wss://b:2"])
        #expect(c.primaryNode == "ws://a:1")
        #expect(c.production)
        #expect(c.alertLimit == 3)
    }

    @Test func badEnvironmentBooleanNamesTheVariable() {
        let dir = ScratchDirectory()
        #expect(throws: ConfigError.self) { try resolve([], env: ["CHAIN_ALERTER_SLACK": "maybe"], in: dir) }
        do { _ = try resolve([], env: ["CHAIN_ALERTER_SLACK": "maybe"], in: dir) } catch {
            #expect(error.option == "CHAIN_ALERTER_SLACK")
        }
    }

    @Test func tomlThresholdsImportantAddressesAndNetworks() throws {
        let dir = ScratchDirectory()
        let file = dir.write("c.toml", """
        slack = false
        node-rpc-url = ["ws://n1:9944", "ws://n2:9944"]
        [alerts]
        block_stall = "2m5s"
        fork_alert_depth = 8
        slot_slow_ratio = 1.2
        large_transfer = "500"
        [[important_addresses]]
        name = "Sudo"
        address = "subKQqsYRyVkugvKQqLXEuhsefa9728PBAqtwxpeM5N4VD6mv"
        [[networks]]
        name = "Local Dev"
        genesis_hash = "0x91912b429ce7bf2975440a0920b46a892fddeeaed6ccc11c93f2d57ad1bd69ab"
        token_symbol = "tAI3"
        decimals = 18
        ss58_prefix = 6094
        """)
        let c = try resolve(["--config", file], in: dir)
        #expect(c.nodeRPCURLs == ["ws://n1:9944", "ws://n2:9944"])
        #expect(c.alerts.blockStall == .seconds(125))
        #expect(c.alerts.forkAlertDepth == 8)
        #expect(c.alerts.slotSlowRatio == 1.2)
        #expect(c.alerts.largeTransfer == "500")
        #expect(c.alerts.chainTimeGap == .seconds(55))
        #expect(c.importantAddresses == [ImportantAddress(name: "Sudo", address: "subKQqsYRyVkugvKQqLXEuhsefa9728PBAqtwxpeM5N4VD6mv")])
        #expect(c.networks.first?.ss58Prefix == 6094)
        #expect(c.networks.first?.tokenSymbol == "tAI3")
    }

    @Test func unknownKeyIsRejectedByName() {
        let dir = ScratchDirectory()
        let file = dir.write("c.toml", "slack = false\nnode_rpc_urls = [\"ws://x:1\"]\n")
        do {
            _ = try resolve(["--config", file], in: dir)
            Issue.record("expected an error")
        } catch {
            #expect(error.problem.contains("node_rpc_urls"))
            #expect(error.description.contains("Fix:"))
        }
    }

    @Test func malformedTomlNamesTheLine() {
        let dir = ScratchDirectory()
        let file = dir.write("c.toml", "slack = false\nname = \"unterminated\n")
        do {
            _ = try resolve(["--config", file], in: dir)
            Issue.record("expected an error")
        } catch {
            #expect(error.option == "--config")
            #expect(error.problem.contains("line 2"))
        }
    }

    @Test(arguments: ["http://node:9944", "ws//node", "ftp://x", "ws://:9944"])
    func badNodeURL(url: String) {
        let dir = ScratchDirectory()
        #expect(throws: ConfigError.self) { try resolve(["--slack=false", "--node-rpc-url", url], in: dir) }
    }

    @Test func badValuesAreRejected() {
        let dir = ScratchDirectory()
        #expect(throws: ConfigError.self) { try resolve(["--slack=false", "--http-listen", "nohostport"], in: dir) }
        #expect(throws: ConfigError.self) { try resolve(["--slack=false", "--store", "mysql://x"], in: dir) }
        #expect(throws: ConfigError.self) { try resolve(["--slack=false", "--webhook-url", "ws://x"], in: dir) }
        #expect(throws: ConfigError.self) { try resolve(["--slack=false", "--alert-limit=-1"], in: dir) }
        #expect(throws: ConfigError.self) { try resolve(["--slack=false", "--slack-channel", "Bad Channel"], in: dir) }
        let file = dir.write("t.toml", "slack = false\n[alerts]\nblock_stall = \"soon\"\n")
        #expect(throws: ConfigError.self) { try resolve(["--config", file], in: dir) }
    }

    @Test func secretFileWithWrongModeIsRejectedWithTheFix() {
        let dir = ScratchDirectory()
        let secret = dir.write("slack-secret", "xoxb-not-a-real-token\n", mode: 0o644)
        do {
            _ = try resolve(["--slack-secret-path", secret], in: dir)
            Issue.record("expected an error")
        } catch {
            #expect(error.option == "--slack-secret-path")
            #expect(error.problem.contains(secret))
            #expect(error.problem.contains("0644"))
            #expect(error.fix.contains("chmod 600"))
            #expect(!error.description.contains("xoxb-not-a-real-token"))
        }
    }

    @Test func secretFileChecks() throws {
        let dir = ScratchDirectory()
        let good = dir.write("good", "  xoxb-token-value \n", mode: 0o600)
        let secret = try SecretFile.read(path: good, option: "--slack-secret-path")
        #expect(secret.withBytes { String(decoding: $0, as: UTF8.self) } == "xoxb-token-value")
        #expect("\(secret)" == "<redacted>")
        let readOnly = dir.write("ro", "tok", mode: 0o400)
        _ = try resolve(["--slack-secret-path", readOnly], in: dir)
        let empty = dir.write("empty", " \n\t", mode: 0o600)
        #expect(throws: ConfigError.self) { try SecretFile.read(path: empty, option: "--slack-secret-path") }
        #expect(throws: ConfigError.self) { try SecretFile.read(path: dir.path + "/missing", option: "--slack-secret-path") }
        // With Slack off no secret is needed.
        _ = try resolve(["--slack=false", "--slack-secret-path", dir.path + "/missing"], in: dir)
    }

    @Test func systemdCredentialIsUsedWhenNoPathIsGiven() throws {
        let dir = ScratchDirectory()
        try FileManager.default.createDirectory(atPath: dir.path + "/creds", withIntermediateDirectories: true)
        dir.write("creds/slack-secret", "xoxb-cred", mode: 0o400)
        let c = try resolve([], env: ["CREDENTIALS_DIRECTORY": dir.path + "/creds"], in: dir)
        #expect(c.slackSecretPath == dir.path + "/creds/slack-secret")
    }

    @Test func summaryRedactsSecretsAndShowsTheName() throws {
        let dir = ScratchDirectory()
        let secret = dir.write("s", "xoxb-super-secret-token", mode: 0o600)
        let c = try resolve([
            "--slack-secret-path", secret, "--name", "Mainnet",
            "--store", "postgres://alerter:pg-password-123@db:5432/alerts",
            "--webhook-url", "https://hooks.example/T000/B000/hook-token-xyz",
            "--uptime-kuma-url", "https://kuma.example/api/push/push-token-abc?x=1",
        ], in: dir)
        let summary = c.redactedSummary()
        #expect(summary.contains("name = \"Mainnet\""))
        #expect(summary.contains("postgres://alerter:***@db:5432/alerts"))
        #expect(summary.contains("https://hooks.example/***"))
        for leaked in ["xoxb-super-secret-token", "pg-password-123", "hook-token-xyz", "push-token-abc"] {
            #expect(!summary.contains(leaked))
        }
    }

    @Test func durations() {
        #expect(ConfigLoader.parseDuration("65s") == .seconds(65))
        #expect(ConfigLoader.parseDuration("1m30s") == .seconds(90))
        #expect(ConfigLoader.parseDuration("1500ms") == .milliseconds(1500))
        #expect(ConfigLoader.parseDuration("2h") == .seconds(7200))
        #expect(ConfigLoader.parseDuration("") == nil)
        #expect(ConfigLoader.parseDuration("10") == nil)
        #expect(ConfigLoader.parseDuration("5x") == nil)
        #expect(ConfigLoader.parseDuration("s") == nil)
    }

    @Test func nodeIsolationKeysParseValidateAndShowInTheSummary() throws {
        let dir = ScratchDirectory()
        let defaults = try resolve(["--slack=false"], in: dir)
        #expect(defaults.alerts.nodeLatencyIsolate == .seconds(5))
        #expect(defaults.alerts.nodeRecoverAfter == .seconds(30))
        #expect(defaults.redactedSummary().contains("node_latency_isolate = \"5s\""))
        #expect(defaults.redactedSummary().contains("node_recover_after = \"30s\""))
        let file = dir.write("c.toml", "[alerts]\nnode_latency_isolate = \"1500ms\"\nnode_recover_after = \"2s\"\nnode_lag_isolate = 4\n")
        let c = try resolve(["--slack=false", "--config", file], in: dir)
        #expect(c.alerts.nodeLatencyIsolate == .milliseconds(1500))
        #expect(c.alerts.nodeRecoverAfter == .seconds(2))
        #expect(c.alerts.nodeLagIsolate == 4)
        #expect(c.redactedSummary().contains("node_latency_isolate = \"1500ms\""))
        let bad = dir.write("bad.toml", "[alerts]\nnode_latency_isolate = 5\n")
        #expect(throws: ConfigError.self) { try resolve(["--slack=false", "--config", bad], in: dir) }
        let zero = dir.write("zero.toml", "[alerts]\nnode_recover_after = \"0s\"\n")
        #expect(throws: ConfigError.self) { try resolve(["--slack=false", "--config", zero], in: dir) }
    }

    @Test func longStateDirectoryIsRejected() {
        let dir = ScratchDirectory()
        #expect(throws: ConfigError.self) { try resolve(["--slack=false", "--state-dir", "/" + String(repeating: "d", count: 120)], in: dir) }
    }
}
