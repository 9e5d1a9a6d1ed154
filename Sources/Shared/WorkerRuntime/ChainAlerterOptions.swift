import ArgumentParser
import Wire
import SubstratePrimitives

/// Every option of the supervisor (docs/INTERFACE.md). All are optional here so that
/// `ConfigLoader` can apply the precedence command line > environment > TOML file > default.
/// Workers accept the same options, so the supervisor forwards the user's arguments verbatim.
public struct ChainAlerterOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("node-rpc-url"), help: "Substrate JSON-RPC WebSocket endpoint, ws:// or wss:// (repeatable; the first is the primary).")
    public var nodeRPCURL: [String] = []

    @Option(help: "Instance name shown in every notification.")
    public var name: String?

    @Option(help: "Slack icon emoji, without colons.")
    public var icon: String?

    @Flag(name: [.customLong("production"), .customLong("prod")], help: "Post to the production channel (startup alerts always go to the test channel).")
    public var production = false

    @Option(name: .customLong("slack"), help: "false: no Slack at all and no secret needed; alerts go to the terminal.")
    public var slack: Bool?

    @Option(name: .customLong("slack-secret-path"), help: "File with the Slack bot token (mode 0400 or 0600).")
    public var slackSecretPath: String?

    @Option(name: .customLong("slack-api-url"), help: "Base URL of the Slack Web API.")
    public var slackAPIURL: String?

    @Option(name: .customLong("slack-channel"), help: "Test channel.")
    public var slackChannel: String?

    @Option(name: .customLong("slack-production-channel"), help: "Production channel.")
    public var slackProductionChannel: String?

    @Option(name: .customLong("uptime-kuma-url"), help: "Uptime Kuma push monitor URL (repeatable).")
    public var uptimeKumaURL: [String] = []

    @Option(name: .customLong("webhook-url"), help: "Every alert is POSTed here as JSON (repeatable).")
    public var webhookURL: [String] = []

    @Option(name: .customLong("alert-limit"), help: "Exit 0 after N alerts have been notified (the startup alert counts).")
    public var alertLimit: Int?

    @Flag(name: .customLong("test-startup"), help: "Exit 0 right after the startup alert.")
    public var testStartup = false

    @Option(help: "TOML file: thresholds, important addresses, networks, sinks.")
    public var config: String?

    @Option(help: "sqlite:///PATH, sqlitememory:///NAME or postgres://user:pass@host:port/db.")
    public var store: String?

    @Option(name: .customLong("state-dir"), help: "Directory for the database and runtime sockets ($STATE_DIRECTORY or ./state).")
    public var stateDir: String?

    @Option(name: .customLong("http-listen"), help: "HOST:PORT for /metrics, /health and /status.")
    public var httpListen: String?

    public init() {}
}
