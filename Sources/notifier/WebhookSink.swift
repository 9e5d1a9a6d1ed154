import Foundation
import Logging
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// POSTs the INTERFACE.md JSON object to one `--webhook-url`. The alert id travels as `Idempotency-Key`
/// and `X-Chain-Alerter-Alert-Id`, so a receiver can drop the rare resend after a crash.
struct WebhookSink: AlertSink {
    let name: String
    let url: String
    let client: any HTTPTransport
    let timeout: Duration
    let logger: Logger

    /// `name` is derived from the URL's hash: stable across restarts, and no token in logs or metrics.
    init(url: String, client: any HTTPTransport, timeout: Duration = .seconds(10), logger: Logger) {
        self.url = url
        self.name = "webhook-" + Self.shortHash(url)
        self.client = client
        self.timeout = timeout
        self.logger = logger
    }

    /// 64-bit FNV-1a of the URL, 8 hex digits.
    static func shortHash(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(h, radix: 16)
        return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(8))
    }

    /// Statuses that will never succeed on retry.
    static let permanentStatuses: Set<Int> = [400, 401, 403, 404, 405, 410, 413, 422]

    func prepare() async -> SinkReadiness { .ready }

    func deliver(_ alert: StoredAlert, attempt: Int, inDoubt: Bool) async -> DeliveryOutcome {
        var headers: [(String, String)] = [
            ("Content-Type", "application/json"),
            ("Idempotency-Key", alert.payload.id),
            ("X-Chain-Alerter-Alert-Id", alert.payload.id),
            ("X-Chain-Alerter-Attempt", String(attempt)),
        ]
        if inDoubt { headers.append(("X-Chain-Alerter-In-Doubt", "true")) }
        let request = HTTPRequest(method: "POST", url: url, headers: headers, body: alert.payloadJSON,
                                  connectTimeout: .seconds(5), totalTimeout: timeout)
        do {
            let response = try await client.send(request)
            return Self.classify(status: response.status, retryAfter: response.header("retry-after"))
        } catch {
            return .retry(reason: error.description, retryAfter: nil)
        }
    }

    static func classify(status: Int, retryAfter: String?) -> DeliveryOutcome {
        switch status {
        case 200 ..< 300: return .accepted
        case 429, 503: return .retry(reason: "HTTP \(status)", retryAfter: RetryAfter.parse(retryAfter))
        case let s where permanentStatuses.contains(s): return .permanent(reason: "HTTP \(s)")
        default: return .retry(reason: "HTTP \(status)", retryAfter: RetryAfter.parse(retryAfter))
        }
    }

    /// A webhook cannot be asked whether it has the alert: resend, flagged, with the same idempotency key.
    func reconcile(_ alert: StoredAlert) async -> ReconcileOutcome { .resend }
}

/// Prints alerts readably, one block of lines each, coloured on a TTY. Used with `--slack=false`.
struct TerminalSink: AlertSink {
    let name = "terminal"
    let colour: Bool
    let write: @Sendable (String) -> Void

    init(colour: Bool = isatty(STDOUT_FILENO) == 1, write: @escaping @Sendable (String) -> Void = TerminalSink.standardOutput) {
        self.colour = colour
        self.write = write
    }

    /// A closed stdout must not kill the notifier (SIGPIPE is ignored; the error is dropped).
    static let standardOutput: @Sendable (String) -> Void = { text in
        try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
    }

    func prepare() async -> SinkReadiness { .ready }

    func deliver(_ alert: StoredAlert, attempt: Int, inDoubt: Bool) async -> DeliveryOutcome {
        write(Self.render(alert.payload, colour: colour))
        return .accepted
    }

    /// A terminal keeps no record: reprinting an in-doubt alert is harmless.
    func reconcile(_ alert: StoredAlert) async -> ReconcileOutcome { .resend }

    static func render(_ p: AlertPayload, colour: Bool) -> String {
        let (on, off, dim): (String, String, String)
        if colour {
            switch p.severity {
            case .critical: on = "\u{1B}[1;31m"
            case .warning: on = "\u{1B}[1;33m"
            case .info: on = "\u{1B}[1;36m"
            }
            off = "\u{1B}[0m"
            dim = "\u{1B}[2m"
        } else {
            (on, off, dim) = ("", "", "")
        }
        var lines: [String] = []
        lines.append("\(on)[\(p.severity.rawValue.uppercased())] \(p.kind.rawValue): \(p.title)\(off)")
        lines.append("  \(p.instance) · \(p.network)\(p.node.map { " · \($0)" } ?? "")")
        for l in p.text.split(separator: "\n", omittingEmptySubsequences: false) where !l.isEmpty {
            lines.append("  " + l.replacingOccurrences(of: "**", with: ""))
        }
        if let b = p.block { lines.append("  \(p.mode?.rawValue ?? "Current") block \(b.height) \(b.hash)") }
        if let e = p.extrinsic { lines.append("  extrinsic \(e.index) \(e.hash)") }
        if let e = p.event { lines.append("  event \(e.index)") }
        for (k, v) in p.fields.sorted(by: { $0.key < $1.key }) { lines.append("  \(k): \(v)") }
        for (k, v) in p.links.sorted(by: { $0.key < $1.key }) { lines.append("  \(k): \(v)") }
        lines.append("\(dim)  \(p.observedAt)  id \(p.id)\(off)")
        return lines.joined(separator: "\n") + "\n\n"
    }
}
