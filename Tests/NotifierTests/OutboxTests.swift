import Foundation
import Testing
@testable import notifier
@testable import Store
@testable import WorkerRuntime
import TestKit


@Suite("Outbox")
struct OutboxTests {
    func memoryStore() throws -> AlertStore {
        try AlertStore(location: .sqliteMemory(name: "store-" + UUID().uuidString), logger: testLogger)
    }

    @Test("outbox: enqueue once per sink, states, in-doubt rows come back")
    func outbox() throws {
        let store = try memoryStore()
        let outbox = Outbox(store: store)
        try store.insertAlerts([testAlert(1), testAlert(2)])
        try outbox.register(sink: "s")
        #expect(try outbox.enqueueNew(sink: "s") == 2)
        #expect(try outbox.enqueueNew(sink: "s") == 0)
        let e = try #require(try outbox.next(sink: "s"))
        #expect(e.alert.payload.id == testAlert(1).id && e.state == .pending)
        #expect(try outbox.markSending(rowID: e.alert.rowID, sink: "s") == 1)
        #expect(try outbox.next(sink: "s")?.state == .sending) // in doubt for a new process
        try outbox.markDelivered(rowID: e.alert.rowID, sink: "s")
        #expect(try outbox.next(sink: "s")?.alert.payload.id == testAlert(2).id)
        #expect(try outbox.isFullyDelivered(rowID: e.alert.rowID, sinks: ["s"]))
        #expect(try !outbox.isFullyDelivered(rowID: e.alert.rowID, sinks: ["s", "t"]))
    }
}
