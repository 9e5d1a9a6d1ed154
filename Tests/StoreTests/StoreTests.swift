import Foundation
import GRDB
import Testing
@testable import Store
@testable import WorkerRuntime
import TestKit


@Suite("AlertStore")
struct StoreTests {
    func memoryStore() throws -> AlertStore {
        try AlertStore(location: .sqliteMemory(name: "store-" + UUID().uuidString), logger: testLogger)
    }

    @Test("alerts and cursor commit together, idempotent on id")
    func commitBlockIsIdempotent() throws {
        let store = try memoryStore()
        let a = [testAlert(1), testAlert(2)]
        let first = try store.commitBlock(alerts: a, cursor: StoreCursor(name: AlertStore.alertWorkerCursor, height: 10, hash: "0xaa"))
        #expect(first.inserted == a.map(\.id))
        #expect(first.alreadyPresent.isEmpty)
        // Re-processing the same block after a crash: nothing new, cursor still moves.
        let again = try store.commitBlock(alerts: a + [testAlert(3)], cursor: StoreCursor(name: AlertStore.alertWorkerCursor, height: 11, hash: "0xbb"))
        #expect(again.inserted == [testAlert(3).id])
        #expect(again.alreadyPresent == a.map(\.id))
        #expect(try store.read("count") { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM alert") } == 3)
        #expect(try store.cursor(named: AlertStore.alertWorkerCursor) == StoreCursor(name: "alert-worker", height: 11, hash: "0xbb"))
        #expect(try store.bestHeight() == 11)
        let stored = try #require(try store.alert(id: testAlert(2).id))
        #expect(stored.payload == testAlert(2).withObservedAt(stored.payload.observedAt))
    }

    @Test("a failing transaction stores neither alerts nor cursor")
    func atomic() throws {
        let store = try memoryStore()
        #expect(throws: (any Error).self) {
            try store.writer.write { db in
                try db.execute(sql: "INSERT INTO alert (id, kind, severity, payload, created_at) VALUES ('x', 'Reorg', 'info', '{}', 0)")
                try db.execute(sql: "INSERT INTO cursor (name, height, hash, updated_at) VALUES ('c', NULL, 'h', 0)") // NOT NULL violation
            }
        }
        #expect(try store.lastAlertRowID() == 0)
        #expect(try store.cursor(named: "c") == nil)
    }

    @Test("a file store uses WAL and survives reopening")
    func fileStore() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("s.sqlite")
        do {
            let store = try AlertStore(location: .sqliteFile(path: path), logger: testLogger)
            try store.insertAlerts([testAlert(1)])
            let mode = try store.read("mode") { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
        }
        let reopened = try AlertStore(location: .sqliteFile(path: path), logger: testLogger)
        #expect(try reopened.alert(id: testAlert(1).id) != nil)
        let migrations = try reopened.read("m") { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(migrations == ["v1: alert, cursor, delivery, sink", "v2: delivery index by sink and alert",
                               "v3: checked_block (alert-worker exactly-once intake)", "v4: rule_state (alert rules de-dup state)"])
    }

    @Test("postgres is rejected with a configuration error")
    func postgresRejected() throws {
        do {
            _ = try AlertStore(location: .postgres(url: "postgres://u:pw@db:5432/x"), logger: testLogger)
            Issue.record("expected an error")
        } catch .unsupported(let e) {
            #expect(e.description.contains("not supported yet"))
            #expect(!e.description.contains("pw"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("open stall: the latest BlockStall without a later BlockResumed")
    func openStall() throws {
        let store = try memoryStore()
        #expect(try store.openStall() == nil)
        try store.insertAlerts([testAlert(1, kind: .blockStall)])
        #expect(try store.openStall()?.payload.kind == .blockStall)
        try store.insertAlerts([testAlert(2, kind: .blockResumed)])
        #expect(try store.openStall() == nil)
    }

}

extension AlertPayload {
    func withObservedAt(_ s: String) -> AlertPayload { var c = self; c.observedAt = s; return c }
}
