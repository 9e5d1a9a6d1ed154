import Foundation
import Logging
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// What an Uptime Kuma push says, derived from the store.
///
/// - Before the alert-worker has checked any block (no cursor): `down`, `STARTUP`.
/// - While a `BlockStall` alert is open (no later `BlockResumed`): `down`, with the stall in `msg`
///   (the original ignored stalls here, so a stalled chain looked healthy).
/// - Otherwise `up`, `OK`, `ping` = the best checked height (the highest cursor).
struct UptimeKumaStatus: Sendable, Equatable {
    var status: String
    var message: String
    var ping: UInt64?

    static func from(bestHeight: UInt64?, openStall: AlertPayload?) -> UptimeKumaStatus {
        guard let bestHeight else { return UptimeKumaStatus(status: "down", message: "STARTUP", ping: nil) }
        if let stall = openStall {
            let at = stall.block.map { " at height \($0.height)" } ?? ""
            let node = stall.node.map { " on \($0)" } ?? ""
            return UptimeKumaStatus(status: "down", message: "STALLED since \(stall.observedAt)\(at)\(node)", ping: bestHeight)
        }
        return UptimeKumaStatus(status: "up", message: "OK", ping: bestHeight)
    }

    /// `{url}?status=…&msg=…&ping=…`. A query already on the URL (Kuma shows one to copy) is replaced.
    func url(base: String) -> String {
        let stem = base.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? base
        var s = "\(stem)?status=\(status)&msg=\(SlackSink.percentEncode(message))"
        if let ping { s += "&ping=\(ping)" }
        return s
    }
}

/// Pushes to every `--uptime-kuma-url` every `interval` (first push after one interval, as the original).
/// Each URL has its own task, so a slow monitor never delays another. Failures are logged and counted only.
struct UptimeKumaPinger: Sendable {
    let urls: [String]
    let store: AlertStore
    let client: any HTTPTransport
    let interval: Duration
    let stopping: OnceFlag
    let wake: WakeSignal
    let logger: Logger
    let metrics: NotifierMetrics

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for url in urls {
                group.addTask { await push(url) }
            }
        }
    }

    func currentStatus() -> UptimeKumaStatus {
        let best = try? store.bestHeight()
        let stall = (try? store.openStall())?.map(\.payload)
        return UptimeKumaStatus.from(bestHeight: best ?? nil, openStall: stall ?? nil)
    }

    private func push(_ url: String) async {
        let redacted = Redaction.redactURLPath(url)
        var next = ContinuousClock.now + interval
        while !stopping.isSet {
            let wait = next - ContinuousClock.now
            if wait > .zero {
                await wake.wait(after: wake.current, timeout: min(wait, .seconds(1)))
                continue
            }
            next += interval
            let status = currentStatus()
            do {
                let response = try await client.send(HTTPRequest(url: status.url(base: url), connectTimeout: .seconds(5), totalTimeout: .seconds(10)))
                if !(200 ..< 300).contains(response.status) {
                    metrics.uptimeKumaFailure()
                    logger.warning("uptime kuma push refused", metadata: ["url": "\(redacted)", "status": "\(response.status)"])
                }
            } catch {
                metrics.uptimeKumaFailure()
                logger.warning("uptime kuma push failed", metadata: ["url": "\(redacted)", "error": "\(error)"])
            }
        }
    }
}
