import Foundation
import GRDB
import WorkerRuntime

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
        let encoded = try Self.encode(alerts)
        let result: CommitResult
        do {
            result = try writer.write { db in
                let (inserted, present) = try Self.insert(encoded, cursor: cursor, now: now, in: db)
                try Self.saveRuleState(ruleState, name: stateName, now: now, in: db)
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
