import Foundation
import GRDB
import Logging
import Metrics
import WorkerRuntime

/// A store problem. `unsupported` is a configuration problem (exit 78); the rest are I/O.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The `--store` scheme is valid but not implemented (PostgreSQL).
    case unsupported(ConfigError)
    /// SQLite failed: opening, migrating, reading or writing.
    case database(operation: String, message: String)
    /// A stored payload could not be decoded (should not happen: only `AlertStore` writes them).
    case corruptPayload(rowID: Int64, message: String)

    public var description: String {
        switch self {
        case .unsupported(let e): return e.description
        case .database(let operation, let message): return "store: \(operation) failed: \(message)"
        case .corruptPayload(let rowID, let message): return "store: alert row \(rowID) has an undecodable payload: \(message)"
        }
    }
}

/// One alert as stored: its row id (the outbox order) and the INTERFACE payload.
public struct StoredAlert: Sendable, Equatable {
    public var rowID: Int64
    public var payload: AlertPayload
    /// The payload bytes exactly as stored (what a webhook receives).
    public var payloadJSON: Data
    public var createdAt: Date
}

/// The alert-worker's "checked up to" position.
public struct StoreCursor: Sendable, Equatable {
    public var name: String
    public var height: UInt64
    public var hash: String
    public init(name: String, height: UInt64, hash: String) { self.name = name; self.height = height; self.hash = hash }
}

/// The outcome of `AlertStore.commitBlock`: which alerts were new (the others already existed by `id`).
public struct CommitResult: Sendable, Equatable {
    public var inserted: [String]
    public var alreadyPresent: [String]
    /// The highest alert row id after the commit.
    public var lastRowID: Int64
}

/// The system of record shared by the alert-worker (writes alerts and its cursor) and the notifier
/// (writes delivery state). SQLite in WAL mode through GRDB; the schema is migrated on open.
public final class AlertStore: Sendable {
    /// The name the alert-worker's cursor is stored under.
    public static let alertWorkerCursor = "alert-worker"

    /// The underlying GRDB writer (a `DatabasePool` for files, a named `DatabaseQueue` in memory).
    public let writer: any DatabaseWriter
    /// The file path, or nil for an in-memory store.
    public let path: String?
    private let observers = CommitObservers()

    /// Runs the in-process commit callbacks (for commit paths defined in extensions).
    func notifyCommit() { observers.notify() }

    /// Opens (creating and migrating as needed) the store at `location`.
    public init(location: StoreLocation, logger: Logger) throws(StoreError) {
        var config = GRDB.Configuration()
        // The alert-worker and the notifier write the same file from two processes.
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true
        do {
            switch location {
            case .sqliteFile(let path):
                let dir = (path as NSString).deletingLastPathComponent
                if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
                config.prepareDatabase { db in
                    // WAL: readers never block the writer; NORMAL is durable across process crashes.
                    try db.execute(sql: "PRAGMA synchronous = NORMAL")
                }
                writer = try DatabasePool(path: path, configuration: config)
                self.path = path
            case .sqliteMemory(let name):
                writer = try DatabaseQueue(named: name, configuration: config)
                self.path = nil
            case .postgres(let url):
                throw StoreError.unsupported(ConfigError(
                    option: "--store", problem: "PostgreSQL ('\(Redaction.redactUserInfoPassword(url))') is not supported yet",
                    fix: "use sqlite:///PATH (the default under --state-dir) until PostgreSQL support lands"))
            }
            try Self.migrator.migrate(writer)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database(operation: "open \(location)", message: "\(error)")
        }
        logger.debug("store opened", metadata: ["store": "\(location)"])
    }

    /// Opens an existing SQLite store file read-only: nothing is created or migrated, and readers never block
    /// the writers (WAL). For observers such as the supervisor's `/status`; fails when the file does not exist.
    public init(readOnlyPath path: String) throws(StoreError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.database(operation: "open \(path) read-only", message: "no such file (yet)")
        }
        var config = GRDB.Configuration()
        config.readonly = true
        config.busyMode = .timeout(1)
        do {
            writer = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StoreError.database(operation: "open \(path) read-only", message: "\(error)")
        }
        self.path = path
    }

    /// Versioned, named migrations. Never edit a shipped one; add the next.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: alert, cursor, delivery, sink") { db in
            try db.execute(sql: """
                CREATE TABLE alert (
                    row_id INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    created_at REAL NOT NULL
                );
                CREATE INDEX alert_kind ON alert(kind, row_id);
                CREATE TABLE cursor (
                    name TEXT PRIMARY KEY NOT NULL,
                    height INTEGER NOT NULL,
                    hash TEXT NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE TABLE sink (
                    name TEXT PRIMARY KEY NOT NULL,
                    first_row_id INTEGER NOT NULL,
                    registered_at REAL NOT NULL
                );
                CREATE TABLE delivery (
                    alert_row_id INTEGER NOT NULL REFERENCES alert(row_id) ON DELETE CASCADE,
                    sink TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL NOT NULL,
                    last_error TEXT,
                    delivered_at REAL,
                    PRIMARY KEY (alert_row_id, sink)
                ) WITHOUT ROWID;
                CREATE INDEX delivery_open ON delivery(sink, state, alert_row_id);
                """)
        }
        m.registerMigration("v2: delivery index by sink and alert") { db in
            // enqueueNew asks for MAX(alert_row_id) per sink on every new alert: keep it a single index seek.
            try db.execute(sql: "CREATE INDEX delivery_sink_row ON delivery(sink, alert_row_id)")
        }
        m.registerMigration("v3: checked_block (alert-worker exactly-once intake)") { db in
            try db.execute(sql: """
                CREATE TABLE checked_block (
                    hash TEXT PRIMARY KEY NOT NULL,
                    height INTEGER NOT NULL,
                    commits INTEGER NOT NULL DEFAULT 1,
                    checked_at REAL NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX checked_block_height ON checked_block(height);
                """)
        }
        registerRuleStateMigration(&m)
        return m
    }

    // MARK: alert-worker API

    /// Alerts as the JSON rows they are stored as.
    static func encode(_ alerts: [AlertPayload]) throws(StoreError) -> [(AlertPayload, String)] {
        do {
            return try alerts.map { ($0, String(decoding: try $0.jsonData(), as: UTF8.self)) }
        } catch {
            throw StoreError.database(operation: "encode alert", message: "\(error)")
        }
    }

    /// Inside a write transaction: inserts the alerts (idempotent on id) and moves `cursor`; returns which ids
    /// were new and which were already there.
    static func insert(_ encoded: [(AlertPayload, String)], cursor: StoreCursor?, now: Date,
                       in db: Database) throws -> (inserted: [String], present: [String]) {
        var inserted: [String] = []
        var present: [String] = []
        for (a, json) in encoded {
            try db.cachedStatement(sql: """
                INSERT INTO alert (id, kind, severity, payload, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(id) DO NOTHING
                """).execute(arguments: [a.id, a.kind.rawValue, a.severity.rawValue, json, now.timeIntervalSince1970])
            if db.changesCount > 0 { inserted.append(a.id) } else { present.append(a.id) }
        }
        if let cursor {
            try db.cachedStatement(sql: """
                INSERT INTO cursor (name, height, hash, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET height = excluded.height, hash = excluded.hash, updated_at = excluded.updated_at
                """).execute(arguments: [cursor.name, Int64(cursor.height), cursor.hash, now.timeIntervalSince1970])
        }
        return (inserted, present)
    }

    /// Inside a write transaction: replaces the rule state saved under `name`.
    static func saveRuleState(_ state: [UInt8], name: String, now: Date, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO rule_state (name, state, updated_at) VALUES (?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
            """).execute(arguments: [name, Data(state), now.timeIntervalSince1970])
    }

    /// Inserts a block's alerts and moves `cursor` in ONE transaction. Idempotent on `AlertPayload.id`:
    /// re-processing a block after a crash inserts nothing twice and still moves the cursor.
    @discardableResult
    public func commitBlock(alerts: [AlertPayload], cursor: StoreCursor?, now: Date = Date()) throws(StoreError) -> CommitResult {
        let encoded = try Self.encode(alerts)
        let result: CommitResult
        do {
            result = try writer.write { db in
                let (inserted, present) = try Self.insert(encoded, cursor: cursor, now: now, in: db)
                let last = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(row_id), 0) FROM alert") ?? 0
                return CommitResult(inserted: inserted, alreadyPresent: present, lastRowID: last)
            }
        } catch {
            throw StoreError.database(operation: "commit block", message: "\(error)")
        }
        observers.notify()
        Self.countNew(alerts, result)
        return result
    }

    /// `chain_alerter_alerts_total{kind}`: alerts written for the first time (a replayed block adds nothing).
    static func countNew(_ alerts: [AlertPayload], _ result: CommitResult?) {
        guard let result, !result.inserted.isEmpty else { return }
        let new = Set(result.inserted)
        for alert in alerts where new.contains(alert.id) {
            Counter(label: alertsTotalLabel, dimensions: [("kind", alert.kind.rawValue)]).increment()
        }
    }

    public static let alertsTotalLabel = "chain_alerter_alerts_total"

    /// Checks a block exactly once: in ONE transaction, unless `hash` is already in the checked set, inserts the
    /// block's alerts, moves `cursor`, adds `hash` to the checked set, and prunes that set below
    /// `pruneBelowHeight`. Returns nil (and changes nothing) when the block was checked before.
    @discardableResult
    public func commitCheckedBlock(hash: String, height: UInt64, alerts: [AlertPayload], cursor: StoreCursor,
                                   pruneBelowHeight: UInt64 = 0, ruleState: [UInt8]? = nil,
                                   ruleStateName: String = AlertStore.alertRulesState, now: Date = Date()) throws(StoreError) -> CommitResult? {
        let encoded = try Self.encode(alerts)
        let result: CommitResult?
        do {
            result = try writer.write { db -> CommitResult? in
                if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM checked_block WHERE hash = ?"), arguments: [hash]) == true {
                    return nil
                }
                let (inserted, present) = try Self.insert(encoded, cursor: cursor, now: now, in: db)
                try db.cachedStatement(sql: """
                    INSERT INTO checked_block (hash, height, commits, checked_at) VALUES (?, ?, 1, ?)
                    ON CONFLICT(hash) DO UPDATE SET commits = commits + 1
                    """).execute(arguments: [hash, Int64(height), now.timeIntervalSince1970])
                if pruneBelowHeight > 0 {
                    try db.cachedStatement(sql: "DELETE FROM checked_block WHERE height < ?").execute(arguments: [Int64(pruneBelowHeight)])
                }
                if let ruleState { try Self.saveRuleState(ruleState, name: ruleStateName, now: now, in: db) }
                let last = try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(row_id), 0) FROM alert")) ?? 0
                return CommitResult(inserted: inserted, alreadyPresent: present, lastRowID: last)
            }
        } catch {
            throw StoreError.database(operation: "commit checked block", message: "\(error)")
        }
        if result != nil { observers.notify() }
        Self.countNew(alerts, result)
        return result
    }

    /// The checked-blocks set (hash, height, how many times it was committed: 1 unless exactly-once broke).
    public func checkedBlocks() throws(StoreError) -> [(hash: String, height: UInt64, commits: Int)] {
        try read("read checked blocks") { db in
            try Row.fetchAll(db, sql: "SELECT hash, height, commits FROM checked_block ORDER BY height, hash").map {
                (hash: $0["hash"] as String, height: UInt64(max(0, $0["height"] as Int64)), commits: $0["commits"] as Int)
            }
        }
    }

    /// Inserts alerts without moving a cursor (node and worker alerts that belong to no block).
    @discardableResult
    public func insertAlerts(_ alerts: [AlertPayload], now: Date = Date()) throws(StoreError) -> CommitResult {
        try commitBlock(alerts: alerts, cursor: nil, now: now)
    }

    /// The cursor stored under `name`, if any.
    public func cursor(named name: String) throws(StoreError) -> StoreCursor? {
        try read("read cursor") { db in
            try Row.fetchOne(db, sql: "SELECT name, height, hash FROM cursor WHERE name = ?", arguments: [name]).map {
                StoreCursor(name: $0["name"], height: UInt64(max(0, $0["height"] as Int64)), hash: $0["hash"])
            }
        }
    }

    /// The highest cursor height over all cursors (the best height the pipeline has checked), if any.
    public func bestHeight() throws(StoreError) -> UInt64? {
        try read("read best height") { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(height) FROM cursor").map { UInt64(max(0, $0)) }
        }
    }

    /// The alert with `id`, if stored.
    public func alert(id: String) throws(StoreError) -> StoredAlert? {
        try read("read alert") { db in
            try Row.fetchOne(db, sql: "SELECT row_id, payload, created_at FROM alert WHERE id = ?", arguments: [id])
                .map { try Self.storedAlertRow($0) }
        }
    }

    /// The highest alert row id (0 when empty).
    public func lastAlertRowID() throws(StoreError) -> Int64 {
        try read("read last alert") { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(row_id), 0) FROM alert") ?? 0 }
    }

    /// The newest `limit` alerts, newest first (read-only; `/status`).
    public func recentAlerts(limit: Int) throws(StoreError) -> [StoredAlert] {
        try read("read recent alerts") { db in
            try Row.fetchAll(db, sql: "SELECT row_id, payload, created_at FROM alert ORDER BY row_id DESC LIMIT ?",
                             arguments: [max(0, limit)]).map { try Self.storedAlertRow($0) }
        }
    }

    /// The latest `BlockStall` alert that no later `BlockResumed` closed, if any: the chain is stalled.
    public func openStall() throws(StoreError) -> StoredAlert? {
        try read("read stall") { db in
            try Row.fetchOne(db, sql: """
                SELECT row_id, payload, created_at FROM alert
                WHERE kind = 'BlockStall'
                  AND row_id > COALESCE((SELECT MAX(row_id) FROM alert WHERE kind = 'BlockResumed'), 0)
                ORDER BY row_id DESC LIMIT 1
                """).map { try Self.storedAlertRow($0) }
        }
    }

    // MARK: in-process commit notifications

    /// Calls `body` after every commit made through this `AlertStore` instance (same process only;
    /// other processes are seen through `PRAGMA data_version`, see `DataVersionWatcher`).
    public func onCommit(_ body: @escaping @Sendable () -> Void) {
        observers.add(body)
    }

    /// Runs a read, mapping GRDB errors to `StoreError`.
    public func read<T: Sendable>(_ operation: String, _ body: @Sendable (Database) throws -> T) throws(StoreError) -> T {
        do { return try writer.read(body) } catch let e as StoreError { throw e } catch { throw StoreError.database(operation: operation, message: "\(error)") }
    }

    /// Runs a write transaction, mapping GRDB errors to `StoreError`.
    public func write<T: Sendable>(_ operation: String, _ body: @Sendable (Database) throws -> T) throws(StoreError) -> T {
        do { return try writer.write(body) } catch { throw StoreError.database(operation: operation, message: "\(error)") }
    }

    /// Decodes a row that has the columns `row_id`, `payload` and `created_at`.
    public static func storedAlertRow(_ row: Row) throws(StoreError) -> StoredAlert {
        let rowID: Int64 = row["row_id"]
        let text: String = row["payload"]
        let data = Data(text.utf8)
        do {
            return StoredAlert(rowID: rowID, payload: try AlertPayload.decode(data), payloadJSON: data,
                               createdAt: Date(timeIntervalSince1970: row["created_at"]))
        } catch {
            throw StoreError.corruptPayload(rowID: rowID, message: "\(error)")
        }
    }
}

/// Callbacks run after each commit made through one `AlertStore`.
final class CommitObservers: @unchecked Sendable {
    private let lock = NSLock()
    private var bodies: [@Sendable () -> Void] = []

    func add(_ body: @escaping @Sendable () -> Void) {
        lock.lock(); bodies.append(body); lock.unlock()
    }

    func notify() {
        lock.lock(); let current = bodies; lock.unlock()
        for b in current { b() }
    }
}
