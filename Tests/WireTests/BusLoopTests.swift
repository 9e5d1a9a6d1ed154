import Foundation
import MetricsTestKit
import Testing
@testable import Wire
@testable import SubstratePrimitives
import TestKit

@Suite struct BusLoopTests {
    @Test func pushPullRoundTripOverIPC() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/data.sock"
        let pull = try BusLoop(name: "pull", sockets: [SocketSpec(name: "in", kind: .pull, attachments: [.bind(endpoint)])], logger: testLogger)
        let push = try BusLoop(name: "push", sockets: [SocketSpec(name: "out", kind: .push, attachments: [.connect(endpoint)])], logger: testLogger)
        defer { push.close(); pull.close() }
        for index in 0 ..< 100 { try push.send([UInt8(index), 1, 2, 3]) }
        let received = await collect(100, from: pull.inbox)
        #expect(received.map(\.payload) == (0 ..< 100).map { [UInt8($0), 1, 2, 3] })
        #expect(received.allSatisfy { $0.routingID == nil })
    }

    @Test func dealerRouterRoundTripOverIPC() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/rr.sock"
        let router = try BusLoop(name: "router", sockets: [SocketSpec(name: "router", kind: .router, attachments: [.bind(endpoint)])], logger: testLogger)
        var options = SocketOptions()
        options.routingID = Array("dealer-1".utf8)
        let dealer = try BusLoop(name: "dealer", sockets: [SocketSpec(name: "dealer", kind: .dealer, attachments: [.connect(endpoint)], options: options)], logger: testLogger)
        defer { dealer.close(); router.close() }

        try dealer.send(Array("ping".utf8))
        let request = try #require(await firstElement(of: router.inbox))
        #expect(request.routingID == Array("dealer-1".utf8))
        #expect(request.payload == Array("ping".utf8))

        try router.send(Array("pong".utf8), routingID: request.routingID)
        let reply = try #require(await firstElement(of: dealer.inbox))
        #expect(reply.payload == Array("pong".utf8))
    }

    @Test func routerSendToUnknownPeerIsDroppedAndCounted() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = TestMetrics()
        let router = try BusLoop(name: "router", sockets: [SocketSpec(name: "router", kind: .router, attachments: [.bind("ipc://\(directory)/r.sock")])],
                                 logger: testLogger, metrics: BusMetrics(factory: metrics))
        defer { router.close() }
        try router.send([1, 2, 3], routingID: Array("nobody".utf8))
        #expect(await eventually { metrics.counterTotal(label: BusMetrics.sendUnroutableLabel) == 1 })
    }

    @Test func pubSubRoundTripOverIPC() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/pubsub.sock"
        let pub = try BusLoop(name: "pub", sockets: [SocketSpec(name: "pub", kind: .pub, attachments: [.bind(endpoint)])], logger: testLogger)
        let sub = try BusLoop(name: "sub", sockets: [SocketSpec(name: "sub", kind: .sub, attachments: [.connect(endpoint)])], logger: testLogger)
        defer { sub.close(); pub.close() }
        // PUB drops until the subscription has propagated (the slow-joiner effect), so keep publishing.
        let publisher = Task {
            while !Task.isCancelled {
                try? pub.send(Array("status".utf8))
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        defer { publisher.cancel() }
        let message = try #require(await firstElement(of: sub.inbox))
        #expect(message.payload == Array("status".utf8))
    }

    @Test func fullHighWaterMarkReportsEAGAINAndNeverBlocks() throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = TestMetrics()
        var options = SocketOptions()
        options.sendHighWaterMark = 10
        let push = try ZMQSocket(context: .shared, kind: .push, name: "hwm", options: options, metrics: BusMetrics(factory: metrics))
        // Nobody is listening: libzmq queues up to the high-water mark, then must say EAGAIN.
        try push.connect("ipc://\(directory)/nobody.sock")
        var statuses: [SendStatus] = []
        let started = ContinuousClock.now
        for _ in 0 ..< 50 { statuses.append(try push.trySend([UInt8](repeating: 7, count: 200))) }
        #expect(ContinuousClock.now - started < .seconds(1))
        #expect(statuses.first == .sent)
        #expect(statuses.last == .wouldBlock)
        let blocked = statuses.filter { $0 == .wouldBlock }.count
        #expect(blocked > 0)
        #expect(metrics.counterTotal(label: BusMetrics.sendWouldBlockLabel, dimensions: [("socket", "hwm")]) == Int64(blocked))
        push.close()
    }

    @Test func loopOutboundQueueFullIsReportedAndCounted() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = TestMetrics()
        var options = SocketOptions()
        options.sendHighWaterMark = 5
        let spec = SocketSpec(name: "out", kind: .push, attachments: [.connect("ipc://\(directory)/nobody.sock")], options: options,
                              outboundCapacity: 20)
        let push = try BusLoop(name: "push", sockets: [spec], logger: testLogger, metrics: BusMetrics(factory: metrics))
        defer { push.close() }
        var refused: BusError? = nil
        for _ in 0 ..< 1000 {
            do {
                try push.send([1, 2, 3])
            } catch {
                refused = error
                break
            }
        }
        #expect(refused == .outboundQueueFull(socket: "out", capacity: 20))
        #expect(metrics.counterTotal(label: BusMetrics.outboundRejectedLabel) >= 1)
        #expect(await eventually { metrics.counterTotal(label: BusMetrics.sendWouldBlockLabel) >= 1 })
    }

    @Test func sendWaitingAppliesBackPressureWithoutLoss() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/bp.sock"
        var options = SocketOptions()
        options.sendHighWaterMark = 10
        options.receiveHighWaterMark = 10
        let pull = try BusLoop(name: "pull", sockets: [SocketSpec(name: "in", kind: .pull, attachments: [.bind(endpoint)], options: options,
                                                                  inboxCapacity: 16)], logger: testLogger)
        let push = try BusLoop(name: "push", sockets: [SocketSpec(name: "out", kind: .push, attachments: [.connect(endpoint)], options: options,
                                                                  outboundCapacity: 8)], logger: testLogger)
        defer { push.close(); pull.close() }
        let count = 3000
        let producer = Task {
            for index in 0 ..< count {
                if index % 2 == 0 {
                    try await push.sendWaiting([UInt8(truncatingIfNeeded: index), UInt8(truncatingIfNeeded: index >> 8)])
                } else {
                    try await push.sendWaiting(contentsOf: [[UInt8(truncatingIfNeeded: index), UInt8(truncatingIfNeeded: index >> 8)]])
                }
            }
        }
        let received = await collect(count, from: pull.inbox, timeout: .seconds(20))
        try await producer.value
        #expect(received.count == count)
        #expect(received.map(\.payload) == (0 ..< count).map { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] })
    }

    @Test func sendWaitingFailsOnceTheLoopCloses() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let push = try BusLoop(name: "push", sockets: [SocketSpec(name: "out", kind: .push, attachments: [.connect("ipc://\(directory)/none.sock")],
                                                                  outboundCapacity: 4)], logger: testLogger)
        let producer = Task { () -> BusError? in
            do throws(BusError) {
                for _ in 0 ..< 10_000 { try await push.sendWaiting([1]) }
                return nil
            } catch {
                return error
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        push.close()
        #expect(await producer.value == .closed(socket: "out"))
    }

    @Test func slowConsumerThrottlesInsteadOfGrowing() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/slow.sock"
        let pull = try BusLoop(name: "pull", sockets: [SocketSpec(name: "in", kind: .pull, attachments: [.bind(endpoint)], inboxCapacity: 8)],
                               logger: testLogger)
        let push = try BusLoop(name: "push", sockets: [SocketSpec(name: "out", kind: .push, attachments: [.connect(endpoint)])], logger: testLogger)
        defer { push.close(); pull.close() }
        for index in 0 ..< 500 { try push.send([UInt8(truncatingIfNeeded: index)]) }
        try await Task.sleep(for: .milliseconds(200))
        // The loop stops reading at the inbox capacity; the rest waits in ZeroMQ's queues.
        #expect(pull.inbox.backlog.count.load(ordering: .relaxed) <= 8)
        let all = await collect(500, from: pull.inbox)
        #expect(all.count == 500)
        #expect(all.map(\.payload) == (0 ..< 500).map { [UInt8(truncatingIfNeeded: $0)] })
    }

    @Test func closeFinishesInboxAndFreesTheEndpoint() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/again.sock"
        let first = try BusLoop(name: "a", sockets: [SocketSpec(name: "in", kind: .pull, attachments: [.bind(endpoint)])], logger: testLogger)
        first.close()
        await first.closed()
        #expect(await firstElement(of: first.inbox) == nil)
        let push = try BusLoop(name: "push", sockets: [SocketSpec(name: "out", kind: .push, attachments: [.connect(endpoint)])], logger: testLogger)
        push.close()
        await push.closed()
        #expect(throws: BusError.closed(socket: "out")) { try push.send([1]) }
        let second = try BusLoop(name: "b", sockets: [SocketSpec(name: "in", kind: .pull, attachments: [.bind(endpoint)])], logger: testLogger)
        second.close()
    }

    @Test func sendingOnAReceiveOnlySocketIsRefused() throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pull = try BusLoop(name: "pull", sockets: [SocketSpec(name: "in", kind: .pull, attachments: [.bind("ipc://\(directory)/p.sock")])],
                               logger: testLogger)
        defer { pull.close() }
        #expect(throws: BusError.self) { try pull.send([1]) }
    }

    @Test func badEndpointsGiveActionableErrors() {
        #expect(throws: BusError.invalidEndpoint("nowhere")) {
            _ = try BusLoop(name: "x", sockets: [SocketSpec(name: "in", kind: .pull, attachments: [.bind("nowhere")])], logger: testLogger)
        }
        do {
            _ = try BusLoop(name: "x", sockets: [SocketSpec(name: "in", kind: .pull, attachments: [.bind("ipc:///nonexistent-dir/x.sock")])], logger: testLogger)
            Issue.record("bind in a missing directory succeeded")
        } catch {
            #expect(error.description.contains("/nonexistent-dir/x.sock"))
        }
    }
}

@Suite struct BusEndpointsTests {
    @Test func endpointsLiveInTheStateDirectory() throws {
        #expect(BusEndpoints.control(stateDirectory: "/var/lib/chain-alerter/") == "ipc:///var/lib/chain-alerter/control.sock")
        #expect(BusEndpoints.fetch(stateDirectory: "/s") == "ipc:///s/fetch.sock")
        #expect(BusEndpoints.blocks(stateDirectory: "/s") == "ipc:///s/blocks.sock")
        #expect(BusEndpoints.alertWorker(stateDirectory: "/s") == "ipc:///s/alert-worker.sock")
        #expect(BusEndpoints.notifier(stateDirectory: "/s") == "ipc:///s/notifier.sock")
        // The configuration check measures the longest of them.
        #expect(BusEndpoints.longestPathLength(stateDirectory: "/s") == "/s/alert-worker.sock".utf8.count)
        try BusEndpoints.validate(BusEndpoints.notifier(stateDirectory: "/tmp"))
    }

    @Test func overlongIPCPathsAreRefusedWithTheReason() {
        let endpoint = BusEndpoints.control(stateDirectory: "/" + String(repeating: "d", count: 120))
        do {
            try BusEndpoints.validate(endpoint)
            Issue.record("accepted an ipc path the kernel cannot bind")
        } catch {
            #expect(error.description.contains("shorter state directory"))
        }
    }
}
