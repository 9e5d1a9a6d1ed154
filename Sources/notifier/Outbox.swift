import Foundation
import GRDB
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// Delivery state of one (alert, sink) pair.
enum DeliveryState: String, Sendable {
    case pending, sending, delivered, failed
}

/// The next delivery a sink has to work on.
struct OutboxEntry: Sendable {
    var alert: StoredAlert
    var state: DeliveryState
    var attempts: Int
    var nextAttemptAt: Date
}

/// The notifier's outbox: the `delivery` table, one row per (alert, sink). Only the notifier writes it.
/// A row is `sending` only while an attempt is in flight, so a `sending` row found by a fresh process is
/// in doubt (the process died between send and mark).
struct Outbox: Sendable {
    let store: AlertStore

    /// Records `sink` the first time it is seen. A new sink receives the alerts of the last `backfill`
    /// seconds (so alerts written just before the first start are not lost) but not the whole history.
    func register(sink: String, now: Date = Date(), backfill: TimeInterval = 3600) throws(StoreError) {
        try store.write("register sink \(sink)") { db in
            try db.execute(sql: """
                INSERT INTO sink (name, first_row_id, registered_at)
                VALUES (?, (SELECT COALESCE(MAX(row_id), 0) FROM alert WHERE created_at < ?), ?)
                ON CONFLICT(name) DO NOTHING
                """, arguments: [sink, now.timeIntervalSince1970 - backfill, now.timeIntervalSince1970])
        }
    }

    /// Creates `pending` rows for alerts this sink has not seen yet. Row ids become visible in order
    /// (SQLite serialises writers), so everything above the sink's highest row is new.
    @discardableResult
    func enqueueNew(sink: String, now: Date = Date()) throws(StoreError) -> Int {
        try store.write("enqueue for \(sink)") { db in
            try db.execute(sql: """
                INSERT INTO delivery (alert_row_id, sink, state, attempts, next_attempt_at)
                SELECT a.row_id, ?1, 'pending', 0, ?2 FROM alert a
                WHERE a.row_id > MAX(
                    COALESCE((SELECT first_row_id FROM sink WHERE name = ?1), 0),
                    COALESCE((SELECT MAX(alert_row_id) FROM delivery WHERE sink = ?1), 0))
                ORDER BY a.row_id
                ON CONFLICT DO NOTHING
                """, arguments: [sink, now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    /// The oldest open (`pending` or in-doubt `sending`) delivery of `sink`, optionally only of `kinds`.
    func next(sink: String, kinds: [AlertKind]? = nil) throws(StoreError) -> OutboxEntry? {
        let kindFilter = kinds.map { k in " AND a.kind IN (" + k.map { "'\($0.rawValue)'" }.joined(separator: ",") + ")" } ?? ""
        return try store.read("next delivery for \(sink)") { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT d.alert_row_id AS row_id, d.state, d.attempts, d.next_attempt_at, a.payload, a.created_at
                FROM delivery d JOIN alert a ON a.row_id = d.alert_row_id
                WHERE d.sink = ? AND d.state IN ('pending', 'sending')\(kindFilter)
                ORDER BY d.alert_row_id LIMIT 1
                """, arguments: [sink]) else { return nil }
            return OutboxEntry(alert: try AlertStore.storedAlertRow(row),
                               state: DeliveryState(rawValue: row["state"]) ?? .pending,
                               attempts: row["attempts"],
                               nextAttemptAt: Date(timeIntervalSince1970: row["next_attempt_at"]))
        }
    }

    /// Marks the attempt as started (committed before any byte is sent); returns the attempt number.
    func markSending(rowID: Int64, sink: String) throws(StoreError) -> Int {
        try store.write("mark sending") { db in
            try db.execute(sql: "UPDATE delivery SET state = 'sending', attempts = attempts + 1 WHERE alert_row_id = ? AND sink = ?",
                           arguments: [rowID, sink])
            return try Int.fetchOne(db, sql: "SELECT attempts FROM delivery WHERE alert_row_id = ? AND sink = ?", arguments: [rowID, sink]) ?? 1
        }
    }

    /// The sink accepted the alert.
    func markDelivered(rowID: Int64, sink: String, now: Date = Date()) throws(StoreError) {
        try store.write("mark delivered") { db in
            try db.execute(sql: "UPDATE delivery SET state = 'delivered', delivered_at = ?, last_error = NULL WHERE alert_row_id = ? AND sink = ?",
                           arguments: [now.timeIntervalSince1970, rowID, sink])
        }
    }

    /// The attempt failed and will be retried at `at`. `keepInDoubt` leaves a `sending` row in doubt
    /// (its reconciliation could not be done yet).
    func markRetry(rowID: Int64, sink: String, at: Date, error: String, keepInDoubt: Bool = false) throws(StoreError) {
        try store.write("mark retry") { db in
            try db.execute(sql: "UPDATE delivery SET state = ?, next_attempt_at = ?, last_error = ? WHERE alert_row_id = ? AND sink = ?",
                           arguments: [keepInDoubt ? "sending" : "pending", at.timeIntervalSince1970, error, rowID, sink])
        }
    }

    /// The sink refused the alert for good.
    func markFailed(rowID: Int64, sink: String, error: String) throws(StoreError) {
        try store.write("mark failed") { db in
            try db.execute(sql: "UPDATE delivery SET state = 'failed', last_error = ? WHERE alert_row_id = ? AND sink = ?",
                           arguments: [error, rowID, sink])
        }
    }

    /// True when every sink in `sinks` has delivered the alert.
    func isFullyDelivered(rowID: Int64, sinks: [String]) throws(StoreError) -> Bool {
        try store.read("check delivered") { db in
            var delivered = 0
            for s in sinks {
                let state = try String.fetchOne(db, sql: "SELECT state FROM delivery WHERE alert_row_id = ? AND sink = ?", arguments: [rowID, s])
                if state == "delivered" { delivered += 1 }
            }
            return delivered == sinks.count
        }
    }

    /// Deliveries of `sink` not yet delivered or failed (`pending` or in-doubt `sending`): the outbox depth.
    func openCount(sink: String) throws(StoreError) -> Int {
        try store.read("count open deliveries") { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM delivery WHERE sink = ? AND state IN ('pending', 'sending')",
                             arguments: [sink]) ?? 0
        }
    }

    /// Number of deliveries per state for `sink` (status and tests).
    func counts(sink: String) throws(StoreError) -> [DeliveryState: Int] {
        try store.read("count deliveries") { db in
            var out: [DeliveryState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM delivery WHERE sink = ? GROUP BY state", arguments: [sink]) {
                if let s = DeliveryState(rawValue: row["state"]) { out[s] = row["n"] }
            }
            return out
        }
    }
}
