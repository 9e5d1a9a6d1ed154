import Foundation
import Logging
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// The chain-alerter version shown in Slack's context line.
let chainAlerterVersion = "0.1.0"

/// Timing knobs of the notifier. Defaults are production values; tests shorten them.
struct NotifierTuning: Sendable {
    /// Safety-net store poll; a lost wake-up delays a delivery at most this long.
    var pollInterval: Duration = .milliseconds(500)
    /// `PRAGMA data_version` poll (file stores): the commit → wake-up latency.
    var dataVersionInterval: Duration = .milliseconds(2)
    var retryPolicy = RetryPolicy()
    var uptimeKumaInterval: Duration = .seconds(60)
    /// Bound on finishing in-flight attempts after shutdown is requested (below WorkerRuntime's 10 s).
    var shutdownGrace: Duration = .seconds(8)
    /// Bind the `AlertDoorbell` PULL socket under the state directory.
    var doorbell = true
    /// Poll `PRAGMA data_version` (file stores).
    var dataVersionPolling = true
    var webhookTimeout: Duration = .seconds(10)
    var slackPageInterval: Duration = .seconds(2)
    var slackMinPostInterval: Duration = .seconds(1)
}

/// The notifier worker: one `DeliveryLoop` per sink over the store's outbox, the Uptime Kuma pushes,
/// and the wake-ups (in-process commits, `PRAGMA data_version`, periodic poll).
final class Notifier: Sendable {
    let configuration: Configuration
    let store: AlertStore
    let sinks: [any AlertSink]
    let tuning: NotifierTuning
    let logger: Logger
    let httpClient: any HTTPTransport
    let metrics: NotifierMetrics
    private let wake = WakeSignal()
    private let stopping = OnceFlag()
    private let finish = FinishLine()

    init(configuration: Configuration, store: AlertStore, sinks: [any AlertSink], httpClient: any HTTPTransport,
         tuning: NotifierTuning = NotifierTuning(), metrics: NotifierMetrics = NotifierMetrics(), logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.store = store
        self.sinks = sinks
        self.httpClient = httpClient
        self.tuning = tuning
        self.logger = logger
    }

    /// The sinks `configuration` asks for: Slack (with the token) or, with `--slack=false`, the terminal;
    /// plus one webhook sink per `--webhook-url`. Each sink has its own HTTP threads.
    static func makeSinks(configuration c: Configuration, token: Secret?, tuning: NotifierTuning = NotifierTuning(),
                          logger: Logger) -> [any AlertSink] {
        var sinks: [any AlertSink] = []
        if c.slack, let token {
            var settings = SlackSettings(configuration: c, version: chainAlerterVersion)
            settings.pageInterval = tuning.slackPageInterval
            settings.minPostInterval = tuning.slackMinPostInterval
            sinks.append(SlackSink(settings: settings, token: token, client: CurlHTTPClient(threads: 1, logger: logger), logger: logger))
        } else {
            sinks.append(TerminalSink())
        }
        for url in c.webhookURLs {
            sinks.append(WebhookSink(url: url, client: CurlHTTPClient(threads: 1, logger: logger), timeout: tuning.webhookTimeout, logger: logger))
        }
        return sinks
    }

    /// Asks the notifier to finish: stop taking rows, finish in-flight attempts, exit 0.
    func shutdown(reason: String) {
        finish.cross(code: 0, reason: reason)
    }

    /// Runs until shutdown, the alert limit, or a fatal configuration error; returns the exit code.
    func run() async -> Int32 {
        if configuration.alertLimit == 0 {
            logger.notice("--alert-limit 0: nothing to deliver, exiting")
            return 0
        }
        let names = sinks.map(\.name)
        logger.info("notifier starting", metadata: [
            "sinks": "\(names.joined(separator: ","))",
            "store": "\(configuration.store)",
            "webhooks": "\(configuration.webhookURLs.map(Redaction.redactURLPath).joined(separator: ","))",
        ])
        let wake = self.wake
        store.onCommit { wake.ring() }
        var watcher: DataVersionWatcher?
        if tuning.dataVersionPolling, let path = store.path {
            watcher = DataVersionWatcher(path: path, interval: tuning.dataVersionInterval, wake: wake, logger: logger)
            watcher?.start()
        }
        let doorbell = tuning.doorbell ? AlertDoorbellListener(stateDirectory: configuration.stateDirectory, wake: wake, logger: logger) : nil
        let finish = self.finish
        let gate = AlertLimitGate(limit: configuration.alertLimit, testStartup: configuration.testStartup) { reason in
            finish.cross(code: 0, reason: reason)
        }
        let outbox = Outbox(store: store)
        let loops = sinks.map { sink in
            DeliveryLoop(sink: sink, outbox: outbox, allSinks: names, gate: gate, wake: wake, stopping: stopping,
                         policy: tuning.retryPolicy, pollInterval: tuning.pollInterval, clock: ContinuousClock(), wallClock: .system,
                         logger: logger, metrics: metrics,
                         onFatal: { error in finish.cross(code: ConfigError.exitCode, reason: error.description, fatal: true) })
        }
        let pinger = UptimeKumaPinger(urls: configuration.uptimeKumaURLs, store: store, client: httpClient,
                                      interval: tuning.uptimeKumaInterval, stopping: stopping, wake: wake, logger: logger,
                                      metrics: metrics)

        let (code, reason, fatal) = await withTaskGroup(of: Void.self) { group -> (Int32, String, Bool) in
            for loop in loops { group.addTask { await loop.run() } }
            if !configuration.uptimeKumaURLs.isEmpty { group.addTask { await pinger.run() } }
            let result = await finish.wait()
            if result.fatal {
                logger.critical("\(result.reason)")
            } else {
                logger.notice("notifier finishing", metadata: ["reason": "\(result.reason)"])
            }
            stopping.set()
            wake.ring()
            let grace = tuning.shutdownGrace
            let logger = self.logger
            // In-flight attempts are bounded by their HTTP timeout; this bounds the whole drain.
            let deadline = Task.detached {
                try await Task.sleep(for: grace)
                logger.warning("in-flight deliveries did not finish within \(grace); exiting, they stay pending")
                exit(result.code)
            }
            await group.waitForAll()
            deadline.cancel()
            return result
        }
        watcher?.stop()
        doorbell?.close()
        if !fatal { logger.notice("notifier stopped", metadata: ["reason": "\(reason)"]) }
        return code
    }
}

/// The first reason to stop, and who waits for it.
final class FinishLine: @unchecked Sendable {
    private let lock = NSLock()
    private var result: (code: Int32, reason: String, fatal: Bool)?
    private var waiters: [CheckedContinuation<(code: Int32, reason: String, fatal: Bool), Never>] = []

    func cross(code: Int32, reason: String, fatal: Bool = false) {
        lock.lock()
        guard result == nil else { lock.unlock(); return }
        let r = (code: code, reason: reason, fatal: fatal)
        result = r
        let ws = waiters
        waiters = []
        lock.unlock()
        for w in ws { w.resume(returning: r) }
    }

    func wait() async -> (code: Int32, reason: String, fatal: Bool) {
        await withCheckedContinuation { c in
            lock.lock()
            if let result { lock.unlock(); c.resume(returning: result); return }
            waiters.append(c)
            lock.unlock()
        }
    }
}
