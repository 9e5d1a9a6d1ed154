import Foundation
import GRDB
import Logging
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// Notices alert rows committed by another process (the alert-worker) within milliseconds.
///
/// SQLite's `PRAGMA data_version` changes on a connection whenever another connection commits, and
/// costs a few microseconds to read. A dedicated thread reads it every `interval` on its own read-only
/// connection; when it changed and `MAX(alert.row_id)` grew, the delivery loops are woken. This needs no
/// doorbell from the alert-worker, so a lost or missing doorbell never delays an alert, and the
/// notifier's own delivery writes (which also bump data_version) wake nobody.
final class DataVersionWatcher: @unchecked Sendable {
    private let path: String
    private let interval: Duration
    private let wake: WakeSignal
    private let logger: Logger
    private let stopped = OnceFlag()

    init(path: String, interval: Duration = .milliseconds(2), wake: WakeSignal, logger: Logger) {
        self.path = path
        self.interval = interval
        self.wake = wake
        self.logger = logger
    }

    func start() {
        let t = Thread { [self] in self.loop() }
        t.name = "data-version"
        t.start()
    }

    func stop() { stopped.set() }

    private func loop() {
        var config = GRDB.Configuration()
        config.readonly = true
        config.busyMode = .timeout(1)
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: config) } catch {
            logger.error("cannot open the store for change polling; relying on the periodic poll", metadata: ["error": "\(error)"])
            return
        }
        var lastVersion: Int64 = -1
        var lastRow: Int64 = -1
        let micros = UInt32(max(100, interval.milliseconds * 1000))
        while !stopped.isSet {
            do {
                let changed: Bool = try queue.inDatabase { db in
                    let v = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
                    if v == lastVersion { return false }
                    lastVersion = v
                    let r = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(row_id), 0) FROM alert") ?? 0
                    if r == lastRow { return false }
                    lastRow = r
                    return true
                }
                if changed { wake.ring() }
            } catch {
                logger.debug("data_version poll failed", metadata: ["error": "\(error)"])
            }
            usleep(micros)
        }
    }
}
