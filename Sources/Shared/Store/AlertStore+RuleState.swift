import Foundation
import GRDB

/// The alert-worker's rule state (de-duplication over time: stall, resume, slot and farmer status, fork
/// re-alert book) saved next to its alerts and cursor, so that one transaction moves all three.
extension AlertStore {
    /// The name the alert-worker's rule state is stored under.
    public static let alertRulesState = "alert-rules"

    /// Additive migration: one row of opaque state per name.
    static func registerRuleStateMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v4: rule_state (alert rules de-dup state)") { db in
            try db.execute(sql: """
                CREATE TABLE rule_state (
                    name TEXT PRIMARY KEY NOT NULL,
                    state BLOB NOT NULL,
                    updated_at REAL NOT NULL
                )
                """)
        }
    }

    /// Inserts `alerts` (idempotent on id), moves `cursor` (if given) and replaces the rule state `ruleState`
    /// under `stateName`, all in ONE transaction.
    @discardableResult
    public func commitBlock(alerts: [AlertPayload], cursor: StoreCursor?, ruleState: [UInt8], stateName: String = AlertStore.alertRulesState,
                            now: Date = Date()) throws(StoreError) -> CommitResult {
        var encoded: [(AlertPayload, String)] = []
        do {
            for a in alerts { encoded.append((a, String(decoding: try a.jsonData(), as: UTF8.self))) }
        } catch {
            throw StoreError.database(operation: "encode alert", message: "\(error)")
        }
        let blob = Data(ruleState)
        let result: CommitResult
        do {
            result = try writer.write { db in
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
                try db.cachedStatement(sql: """
                    INSERT INTO rule_state (name, state, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
                    """).execute(arguments: [stateName, blob, now.timeIntervalSince1970])
                let last = inserted.isEmpty ? 0 : (try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(row_id), 0) FROM alert")) ?? 0)
                return CommitResult(inserted: inserted, alreadyPresent: present, lastRowID: last)
            }
        } catch {
            throw StoreError.database(operation: "commit block with rule state", message: "\(error)")
        }
        if !result.inserted.isEmpty { notifyCommit() }
        return result
    }

    /// The rule state saved under `name`, if any.
    public func ruleState(named name: String = AlertStore.alertRulesState) throws(StoreError) -> [UInt8]? {
        try read("read rule state") { db in
            try Data.fetchOne(db, sql: "SELECT state FROM rule_state WHERE name = ?", arguments: [name]).map { [UInt8]($0) }
        }
    }
}
