import Foundation
import Synchronization

/// One request as a fake sink sees it: the method, the path and query of the URL, the headers (names
/// lower-cased) and the body.
public struct FakeRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var headers: [String: String]
    public var body: Data

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: Data = Data()) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        self.body = body
    }

    /// Splits `url` (`http://host:port/path?query`) into path and query.
    public init(method: String, url: String, headers: [String: String], body: Data) {
        let components = URLComponents(string: url)
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        self.init(method: method, path: components?.percentEncodedPath ?? "/", query: query, headers: headers, body: body)
    }
}

/// A fake sink's answer: a status, headers and a JSON body, and how long to wait before and after deciding.
public struct FakeResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: Data
    /// Wait this long, then answer (a slow server: the client should time out first).
    public var delay: Duration = .zero
}

/// The Slack Web API, webhook receiver and Uptime Kuma push doubles behind one request handler, so that the
/// same behaviour serves real HTTP (`FakeSinkServer`) and in-memory requests (`InMemoryHTTPTransport`):
///
/// - `/api/<method>`: `auth.test`, `conversations.list` (paged), `chat.postMessage`, `conversations.history`
///   (newest first, with message metadata when asked); `Authorization: Bearer <token>` is checked.
/// - `/hook/<anything>`: a webhook receiver that de-duplicates by `Idempotency-Key` as a careful receiver does.
/// - `/push/<anything>`: an Uptime Kuma push endpoint.
///
/// Faults are scripted per endpoint (`webhook`, `push`, or a Slack method), one entry consumed per request:
/// `"500"` (that status), `"429:N"` (Retry-After N), `"slow:N"` (answer 503 after N seconds), `"slack:ERR"`
/// (`{"ok": false, "error": ERR}`), `"slowok:N"` (Slack: accept and record, then answer after N seconds).
/// Every request is recorded as a JSON-shaped dictionary (`requests()`).
public final class FakeSinkService: Sendable {
    private struct State {
        var faults: [String: [String]]
        var seenKeys: Set<String> = []
        var messages: [String: [[String: Any]]] = [:]
        var ts = 0
        var log: [[String: Any]] = []
    }

    public let token: String
    private let channels: [(name: String, id: String)]
    private let pageSize: Int
    private let state: Mutex<UncheckedBox<State>>

    /// `channels` as `name:ID,name:ID`.
    public init(token: String = "xoxb-test-token", channels: String = "chain-alerts-test:C0TEST,chain-alerts:C0PROD",
                pageSize: Int = 1000, faults: [String: [String]] = [:]) {
        self.token = token
        self.channels = channels.split(separator: ",").compactMap { pair in
            let parts = pair.split(separator: ":").map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
        self.pageSize = pageSize
        state = Mutex(UncheckedBox(State(faults: faults)))
    }

    /// Every request answered so far, oldest first: `endpoint`, `method`, `path`, `query`, `headers` (without
    /// `authorization`), `body` (parsed JSON, a string, or null), `auth_ok`, `fault`, `status`, `accepted`,
    /// `duplicate`, `slack_error`, `t`.
    public func requests() -> [[String: Any]] { state.withLock { $0.value.log } }

    public func requests(endpoint: String) -> [[String: Any]] { requests().filter { $0["endpoint"] as? String == endpoint } }

    /// Answers one request, recording it.
    public func respond(to request: FakeRequest) -> FakeResponse {
        var entry: [String: Any] = ["path": request.path, "method": request.method, "query": request.query,
                                    "headers": request.headers.filter { $0.key != "authorization" }]
        let parsed: Any? = request.body.isEmpty ? nil : (try? JSONSerialization.jsonObject(with: request.body))
        entry["body"] = parsed ?? (request.body.isEmpty ? NSNull() : String(decoding: request.body, as: UTF8.self))
        let endpoint: String
        if request.path.hasPrefix("/api/") {
            endpoint = String(request.path.dropFirst("/api/".count))
            entry["auth_ok"] = request.headers["authorization"] == "Bearer " + token
        } else if request.path.hasPrefix("/hook") {
            endpoint = "webhook"
        } else if request.path.hasPrefix("/push") {
            endpoint = "push"
        } else {
            endpoint = "unknown"
        }
        entry["endpoint"] = endpoint
        return state.withLock { box -> FakeResponse in
            var fault = box.value.faults[endpoint]?.isEmpty == false ? box.value.faults[endpoint]!.removeFirst() : "ok"
            entry["fault"] = fault == "ok" ? NSNull() : fault
            entry["t"] = Date().timeIntervalSince1970
            if fault.hasPrefix("slowok:"), endpoint == "webhook" || endpoint == "push" || endpoint == "unknown" { fault = "ok" }
            func record(_ status: Int, accepted: Bool, _ extra: [String: Any] = [:]) {
                var e = entry
                e["status"] = status
                e["accepted"] = accepted
                for (k, v) in extra { e[k] = v }
                box.value.log.append(e)
            }
            if fault.hasPrefix("slow:") {
                record(503, accepted: false)
                return FakeResponse(status: 503, headers: [], body: Self.json(["ok": false, "error": "slow"]), delay: Self.seconds(fault))
            }
            if fault.hasPrefix("429") {
                let after = fault.contains(":") ? String(fault.split(separator: ":")[1]) : "1"
                record(429, accepted: false)
                return FakeResponse(status: 429, headers: [("Retry-After", after)], body: Self.json(["ok": false, "error": "ratelimited"]))
            }
            if fault.hasPrefix("slack:") {
                let error = String(fault.dropFirst("slack:".count))
                record(200, accepted: false, ["slack_error": error])
                return FakeResponse(status: 200, headers: [], body: Self.json(["ok": false, "error": error]))
            }
            if fault != "ok", !fault.hasPrefix("slowok:") {
                let status = Int(fault) ?? 500
                record(status, accepted: false)
                return FakeResponse(status: status, headers: [], body: Self.json(["ok": false, "error": "scripted"]))
            }
            switch endpoint {
            case "webhook":
                let key = request.headers["idempotency-key"] ?? ""
                let duplicate = box.value.seenKeys.contains(key)
                box.value.seenKeys.insert(key)
                record(200, accepted: !duplicate, ["duplicate": duplicate])
                return FakeResponse(status: 200, headers: [], body: Self.json(["ok": true]))
            case "push":
                record(200, accepted: true)
                return FakeResponse(status: 200, headers: [], body: Self.json(["ok": true]))
            case "unknown":
                record(404, accepted: false)
                return FakeResponse(status: 404, headers: [], body: Self.json(["ok": false]))
            default:
                let body = parsed as? [String: Any] ?? [:]
                let result = slack(endpoint, query: request.query, body: body, authOK: entry["auth_ok"] as? Bool == true, state: &box.value)
                record(200, accepted: result["ok"] as? Bool == true && endpoint == "chat.postMessage",
                       ["slack_error": result["error"] ?? NSNull()])
                var response = FakeResponse(status: 200, headers: [], body: Self.json(result))
                if fault.hasPrefix("slowok:") { response.delay = Self.seconds(fault) }
                return response
            }
        }
    }

    private func slack(_ method: String, query: [String: String], body: [String: Any], authOK: Bool, state: inout State) -> [String: Any] {
        guard authOK else { return ["ok": false, "error": "invalid_auth"] }
        switch method {
        case "auth.test":
            return ["ok": true, "team_id": "T0", "user_id": "U0", "bot_id": "B0"]
        case "conversations.list":
            guard query["exclude_archived"] == "true" else { return ["ok": false, "error": "test_double_wants_exclude_archived"] }
            let start = Int(query["cursor"] ?? "") ?? 0
            let page = channels.dropFirst(start).prefix(pageSize)
            let next = start + pageSize
            return ["ok": true, "channels": page.map { ["id": $0.id, "name": $0.name, "is_archived": false] },
                    "response_metadata": ["next_cursor": next < channels.count ? String(next) : ""]]
        case "chat.postMessage":
            guard let channel = body["channel"] as? String, channels.contains(where: { $0.id == channel }) else {
                return ["ok": false, "error": "channel_not_found"]
            }
            state.ts += 1
            let ts = String(format: "%d.%06d", Int(Date().timeIntervalSince1970), state.ts)
            state.messages[channel, default: []].append(["type": "message", "ts": ts, "text": "", "blocks": body["blocks"] ?? NSNull(),
                                                         "metadata": body["metadata"] ?? NSNull()])
            return ["ok": true, "channel": channel, "ts": ts]
        case "conversations.history":
            let channel = query["channel"] ?? ""
            var messages = Array((state.messages[channel] ?? []).reversed().prefix(Int(query["limit"] ?? "") ?? 100))
            if query["include_all_metadata"] != "true" { messages = messages.map { $0.filter { $0.key != "metadata" } } }
            return ["ok": true, "messages": messages, "has_more": false]
        default:
            return ["ok": false, "error": "unknown_method"]
        }
    }

    private static func json(_ object: [String: Any]) -> Data { (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8) }

    private static func seconds(_ fault: String) -> Duration {
        let value = fault.split(separator: ":").last.flatMap { Double($0) } ?? 0
        return .milliseconds(Int64(value * 1000))
    }
}

/// Holds a value that is only touched under the enclosing `Mutex` (JSON-shaped `Any` dictionaries are not Sendable).
struct UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
