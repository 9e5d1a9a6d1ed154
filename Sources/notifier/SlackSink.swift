import Foundation
import Logging
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// Slack Web API settings the sink needs (from `Configuration`).
struct SlackSettings: Sendable {
    var apiURL: String
    var testChannel: String
    var productionChannel: String
    var production: Bool
    var instanceName: String
    var icon: String
    var nodeURLs: [String]
    var version: String
    /// Spec §6.2: 2 s between `conversations.list` pages.
    var pageInterval: Duration = .seconds(2)
    /// Slack allows about one message per second per channel.
    var minPostInterval: Duration = .seconds(1)
    var timeout: Duration = .seconds(10)

    init(configuration c: Configuration, version: String) {
        apiURL = c.slackAPIURL
        testChannel = c.slackChannel
        productionChannel = c.slackProductionChannel
        production = c.production
        instanceName = c.name
        icon = c.icon
        nodeURLs = c.nodeRPCURLs
        self.version = version
    }
}

/// Posts alerts with `chat.postMessage` (spec §6.3 layout, INTERFACE metadata). At start `auth.test`
/// checks the token and `conversations.list` resolves channel names. An in-doubt delivery is reconciled
/// by looking for the alert id in the channel's recent history (message metadata) before re-posting.
actor SlackSink: AlertSink {
    nonisolated let name = "slack"
    private let settings: SlackSettings
    private let token: Secret
    private let client: any HTTPTransport
    private let logger: Logger
    private var channelIDs: [String: String] = [:]
    private var lastPost: [String: ContinuousClock.Instant] = [:]

    init(settings: SlackSettings, token: Secret, client: any HTTPTransport, logger: Logger) {
        self.settings = settings
        self.token = token
        self.client = client
        self.logger = logger
    }

    /// Slack errors that no retry will fix.
    static let permanentErrors: Set<String> = [
        "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission",
        "missing_scope", "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks",
        "invalid_metadata_format", "invalid_metadata_schema", "msg_too_long", "invalid_arguments",
        "restricted_action", "no_text", "team_access_not_granted", "ekm_access_denied",
    ]
    static let authErrors: Set<String> = ["invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"]

    /// The result of one Web API call.
    enum CallResult {
        case ok([String: Any])
        case slackError(String)
        case http(Int, retryAfter: Duration?)
        case transport(String)
    }

    private func call(_ method: String, query: [(String, String)] = [], json: [String: Any]? = nil) async -> CallResult {
        var url = settings.apiURL + method
        if !query.isEmpty {
            url += "?" + query.map { "\($0.0)=\(Self.percentEncode($0.1))" }.joined(separator: "&")
        }
        var request = HTTPRequest(method: json == nil ? "GET" : "POST", url: url, bearerToken: token,
                                  connectTimeout: .seconds(5), totalTimeout: settings.timeout)
        if let json {
            request.body = try? JSONSerialization.data(withJSONObject: json, options: [.withoutEscapingSlashes])
            request.headers = [("Content-Type", "application/json; charset=utf-8")]
        }
        let response: HTTPResponse
        do { response = try await client.send(request) } catch { return .transport(error.description) }
        if response.status == 429 || response.status >= 300 {
            return .http(response.status, retryAfter: RetryAfter.parse(response.header("retry-after")))
        }
        guard let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] else {
            return .transport("Slack \(method) answered HTTP \(response.status) with a body that is not a JSON object")
        }
        if object["ok"] as? Bool == true { return .ok(object) }
        return .slackError(object["error"] as? String ?? "unknown_error")
    }

    static func percentEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    // MARK: start

    func prepare() async -> SinkReadiness {
        switch await call("auth.test", json: [:]) {
        case .ok: break
        case .slackError(let e) where Self.authErrors.contains(e):
            return .fatal(ConfigError(option: "--slack-secret-path",
                                      problem: "Slack rejected the bot token (auth.test: \(e)); the token is wrong, revoked or for another workspace",
                                      fix: "write the workspace's bot token (xoxb-…) into the secret file, or pass --slack=false"))
        case .slackError(let e): return .retry(reason: "auth.test: \(e)")
        case .http(let s, _): return .retry(reason: "auth.test: HTTP \(s)")
        case .transport(let m): return .retry(reason: "auth.test: \(m)")
        }
        var wanted = [settings.testChannel]
        if settings.production { wanted.append(settings.productionChannel) }
        var found: [String: String] = [:]
        var cursor = ""
        var page = 0
        repeat {
            if page > 0 { try? await Task.sleep(for: settings.pageInterval) }
            page += 1
            var query = [("limit", "1000"), ("exclude_archived", "true"), ("types", "public_channel,private_channel")]
            if !cursor.isEmpty { query.append(("cursor", cursor)) }
            switch await call("conversations.list", query: query) {
            case .ok(let body):
                for ch in body["channels"] as? [[String: Any]] ?? [] {
                    if let n = ch["name"] as? String, let id = ch["id"] as? String, wanted.contains(n) { found[n] = id }
                }
                cursor = ((body["response_metadata"] as? [String: Any])?["next_cursor"] as? String) ?? ""
            case .slackError(let e) where Self.authErrors.contains(e) || e == "missing_scope":
                return .fatal(ConfigError(option: "--slack-secret-path",
                                          problem: "Slack refused conversations.list (\(e)); is the Slack secret correct and does the app have the channels:read scope?",
                                          fix: "check the bot token and its scopes"))
            case .slackError(let e): return .retry(reason: "conversations.list: \(e)")
            case .http(let s, _): return .retry(reason: "conversations.list: HTTP \(s)")
            case .transport(let m): return .retry(reason: "conversations.list: \(m)")
            }
        } while !cursor.isEmpty && found.count < wanted.count
        let missing = wanted.filter { found[$0] == nil }
        if !missing.isEmpty {
            return .fatal(ConfigError(option: missing.contains(settings.testChannel) ? "--slack-channel" : "--slack-production-channel",
                                      problem: "Slack channel(s) \(missing.map { "#\($0)" }.joined(separator: ", ")) not found (or archived)",
                                      fix: "create the channel and invite the bot, or pass the right name"))
        }
        channelIDs = found
        logger.info("slack ready", metadata: ["channels": "\(found.keys.sorted().joined(separator: ","))"])
        return .ready
    }

    // MARK: delivery

    /// Startup alerts always go to the test channel; the rest to production with `--production`.
    func channel(for kind: AlertKind) -> String {
        if kind == .startup || !settings.production { return settings.testChannel }
        return settings.productionChannel
    }

    func deliver(_ alert: StoredAlert, attempt: Int, inDoubt: Bool) async -> DeliveryOutcome {
        let channelName = channel(for: alert.payload.kind)
        guard let channelID = channelIDs[channelName] else { return .retry(reason: "channel #\(channelName) not resolved", retryAfter: nil) }
        if let last = lastPost[channelID] {
            let wait = last + settings.minPostInterval - ContinuousClock.now
            if wait > .zero { try? await Task.sleep(for: wait) }
        }
        guard let message = Self.message(alert: alert, channelID: channelID, settings: settings) else {
            return .permanent(reason: "the stored payload is not a JSON object")
        }
        lastPost[channelID] = ContinuousClock.now
        switch await call("chat.postMessage", json: message) {
        case .ok: return .accepted
        case .slackError("ratelimited"): return .retry(reason: "ratelimited", retryAfter: .seconds(1))
        case .slackError(let e) where Self.permanentErrors.contains(e): return .permanent(reason: "\(e) (#\(channelName))")
        case .slackError(let e): return .retry(reason: e, retryAfter: nil)
        case .http(let s, let after) where s == 429 || s >= 500: return .retry(reason: "HTTP \(s)", retryAfter: after ?? (s == 429 ? .seconds(1) : nil))
        case .http(let s, _) where s == 408: return .retry(reason: "HTTP \(s)", retryAfter: nil)
        case .http(let s, _): return .permanent(reason: "HTTP \(s)")
        case .transport(let m): return .retry(reason: m, retryAfter: nil)
        }
    }

    func reconcile(_ alert: StoredAlert) async -> ReconcileOutcome {
        let channelName = channel(for: alert.payload.kind)
        guard let channelID = channelIDs[channelName] else { return .unknown(reason: "channel not resolved") }
        let oldest = String(format: "%.6f", alert.createdAt.timeIntervalSince1970 - 60)
        switch await call("conversations.history", query: [("channel", channelID), ("limit", "200"), ("oldest", oldest),
                                                          ("include_all_metadata", "true")]) {
        case .ok(let body):
            for m in body["messages"] as? [[String: Any]] ?? [] {
                guard let meta = m["metadata"] as? [String: Any], meta["event_type"] as? String == "chain_alert",
                      let payload = meta["event_payload"] as? [String: Any] else { continue }
                if payload["id"] as? String == alert.payload.id { return .alreadyDelivered }
            }
            return .resend
        case .slackError(let e) where Self.permanentErrors.contains(e):
            // History can never be read (e.g. no channels:history scope): waiting would stall the sink forever.
            logger.warning("cannot read channel history to reconcile an in-doubt alert; resending it", metadata: ["error": "\(e)"])
            return .resend
        case .slackError(let e): return .unknown(reason: "conversations.history: \(e)")
        case .http(let s, _): return .unknown(reason: "conversations.history: HTTP \(s)")
        case .transport(let m): return .unknown(reason: m)
        }
    }

    /// The `chat.postMessage` body: spec §6.3 blocks plus INTERFACE metadata.
    static func message(alert: StoredAlert, channelID: String, settings: SlackSettings) -> [String: Any]? {
        guard let payloadObject = (try? JSONSerialization.jsonObject(with: alert.payloadJSON)) as? [String: Any] else { return nil }
        let p = alert.payload
        let mode = p.mode?.rawValue ?? AlertMode.current.rawValue
        let context = "🏷️ \(settings.instanceName) 📞 \(settings.nodeURLs.joined(separator: ", ")) 🔗 \(settings.version)"
        return [
            "channel": channelID,
            "username": "\(settings.instanceName) Chain Alerts Tester",
            "icon_emoji": ":\(settings.icon):",
            "unfurl_links": false,
            "unfurl_media": false,
            "blocks": [
                ["type": "markdown", "text": p.text],
                ["type": "divider"],
                ["type": "markdown", "text": "\(mode) \(p.blockInfo ?? blockInfo(p))"],
                ["type": "context", "elements": [["type": "mrkdwn", "text": context, "verbatim": true]]],
            ] as [[String: Any]],
            "metadata": ["event_type": "chain_alert", "event_payload": payloadObject] as [String: Any],
        ]
    }

    /// Spec §6.4 `{BlockInfo}` from the payload when the alert-worker did not supply it.
    static func blockInfo(_ p: AlertPayload) -> String {
        guard let b = p.block else { return "Block: none\n" }
        let hex = b.hash.hasPrefix("0x") ? String(b.hash.dropFirst(2)) : b.hash
        let short = hex.count >= 8 ? "0x\(hex.prefix(4))…\(hex.suffix(4))" : b.hash
        if let link = p.links["block"] { return "Block: [\(short)](\(link)) (\(b.height))\n" }
        return "Block: \(short) (\(b.height))\n"
    }
}
