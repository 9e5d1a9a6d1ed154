import Foundation
import MetricsTestKit
import Testing
@testable import ControlPlane
@testable import WorkerRuntime
@testable import Wire
import TestKit

@Suite struct ControlPlaneTests {
    @Test func workerSaysHelloHeartbeatsAndReceivesShutdown() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/control.sock"
        let server = try ControlServer(endpoint: endpoint, logger: testLogger, metrics: BusMetrics(factory: TestMetrics()))
        defer { server.close() }
        let client = try WorkerControlClient(endpoint: endpoint, worker: "notifier", role: .notifier, pid: 4242, logger: testLogger,
                                             metrics: BusMetrics(factory: TestMetrics()))
        defer { client.close() }

        try client.sendHello()
        let heartbeats = Task { await client.runHeartbeats(every: .milliseconds(20), status: { ["best_height": "7"] }) }
        defer { heartbeats.cancel() }

        let events = await collect(3, from: server.events)
        guard events.count == 3, case .hello(let hello, let peer) = events[0] else {
            Issue.record("expected hello then heartbeats, got \(events)")
            return
        }
        #expect(hello == WorkerHello(worker: "notifier", role: .notifier, pid: 4242))
        #expect(peer == ControlPeer(routingID: Array("notifier".utf8)))
        var sequences: [UInt64] = []
        for event in events.dropFirst() {
            guard case .heartbeat(let beat, let from) = event else {
                Issue.record("expected a heartbeat, got \(event)")
                continue
            }
            #expect(from == peer)
            #expect(beat.worker == "notifier" && beat.pid == 4242 && beat.status == ["best_height": "7"])
            sequences.append(beat.sequence)
        }
        #expect(sequences == [1, 2])

        try server.send(.shutdown(reason: "test over"), to: peer)
        let command = await firstElement(of: client.commands)
        #expect(command == .shutdown(reason: "test over"))
    }

    @Test func aRestartedWorkerTakesOverItsPeer() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/control.sock"
        let server = try ControlServer(endpoint: endpoint, logger: testLogger, metrics: BusMetrics(factory: TestMetrics()))
        defer { server.close() }
        let first = try WorkerControlClient(endpoint: endpoint, worker: "alert-worker", role: .alertWorker, pid: 1, logger: testLogger)
        try first.sendHello()
        guard case .hello(_, let peer)? = await firstElement(of: server.events) else {
            Issue.record("no hello from the first instance")
            return
        }
        // The successor connects while the old connection still exists.
        let second = try WorkerControlClient(endpoint: endpoint, worker: "alert-worker", role: .alertWorker, pid: 2, logger: testLogger)
        defer { second.close(); first.close() }
        try second.sendHello()
        guard case .hello(let hello, let samePeer)? = await firstElement(of: server.events) else {
            Issue.record("the successor was refused")
            return
        }
        #expect(hello.pid == 2)
        #expect(samePeer == peer)
        try server.send(.shutdown(reason: "to the new one"), to: peer)
        #expect(await firstElement(of: second.commands) == .shutdown(reason: "to the new one"))
    }

    @Test func ctlClientGetsAReply() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/control.sock"
        let server = try ControlServer(endpoint: endpoint, logger: testLogger, metrics: BusMetrics(factory: TestMetrics()))
        defer { server.close() }
        let answering = Task {
            for await event in server.events {
                if case .ctlRequest(let request, let peer) = event {
                    try? server.reply(CtlResponse(ok: true, message: "did \(request.command) \(request.target ?? "-")"), to: peer)
                }
            }
        }
        defer { answering.cancel() }
        let client = CtlClient(endpoint: endpoint, timeout: .seconds(5), logger: testLogger)
        let first = try await client.send(CtlRequest(command: "status"))
        #expect(first == CtlResponse(ok: true, message: "did status -"))
        let second = try await client.send(CtlRequest(command: "restart", target: "notifier"))
        #expect(second.message == "did restart notifier")
    }

    @Test func ctlClientToADeadEndpointTimesOutWithAClearError() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/control.sock"
        let client = CtlClient(endpoint: endpoint, timeout: .milliseconds(300), logger: testLogger)
        let started = ContinuousClock.now
        do {
            _ = try await client.send(CtlRequest(command: "status"))
            Issue.record("a reply came from nowhere")
        } catch {
            #expect(error == .noReply(endpoint: endpoint, timeout: .milliseconds(300), socketFileExists: false))
            #expect(error.description.contains("is the supervisor running"))
            #expect(error.description.contains(endpoint))
        }
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func controlServerCountsAndDropsGarbageAndKeepsServing() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = TestMetrics()
        let endpoint = "ipc://\(directory)/control.sock"
        let server = try ControlServer(endpoint: endpoint, logger: testLogger, metrics: BusMetrics(factory: metrics))
        defer { server.close() }

        // Well-formed ZeroMQ, bad contents: raw bytes, a data-path message, a bad JSON payload, three frames.
        let rogue = try BusLoop(name: "rogue", sockets: [SocketSpec(name: "rogue", kind: .dealer, attachments: [.connect(endpoint)])],
                                logger: testLogger)
        defer { rogue.close() }
        try rogue.send(Array("hello? this is not an envelope".utf8))
        var writer = EnvelopeWriter(sender: "rogue")
        try rogue.send(try writer.seal(AlertDoorbell(highestRowID: 1, newRows: 1)))
        try rogue.send(try Envelope.encode(messageType: .workerHello, sender: "rogue", sequence: 3, payload: Array("{}".utf8)))
        // Over the envelope limit but under the socket's: arrives, is counted as oversized.
        try rogue.send([UInt8](repeating: 0xCA, count: Envelope.controlMaxFrameSize + 100))
        // Not even ZeroMQ: a plain Unix-socket client writing junk; libzmq drops the connection.
        try writeRawJunk(toUnixSocket: "\(directory)/control.sock")

        #expect(await eventually {
            metrics.malformed("control", .badMagic) == 1 && metrics.malformed("control", .unexpectedType) == 1
                && metrics.malformed("control", .undecodablePayload) == 1 && metrics.malformed("control", .oversized) == 1
        })

        let client = try WorkerControlClient(endpoint: endpoint, worker: "fork-worker", role: .forkWorker, logger: testLogger,
                                             metrics: BusMetrics(factory: TestMetrics()))
        defer { client.close() }
        try client.sendHello()
        let event = await firstElement(of: server.events)
        guard case .hello(let hello, _)? = event else {
            Issue.record("expected a hello after the garbage, got \(String(describing: event))")
            return
        }
        #expect(hello.worker == "fork-worker")
    }

    @Test func workerControlClientCountsGarbageFromTheSupervisorSide() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/control.sock"
        let router = try BusLoop(name: "fake-supervisor", sockets: [SocketSpec(name: "router", kind: .router, attachments: [.bind(endpoint)])],
                                 logger: testLogger)
        defer { router.close() }
        let metrics = TestMetrics()
        let client = try WorkerControlClient(endpoint: endpoint, worker: "w", role: .notifier, logger: testLogger, metrics: BusMetrics(factory: metrics))
        defer { client.close() }
        try client.sendHello()
        let hello = try #require(await firstElement(of: router.inbox))
        try router.send([0xDE, 0xAD], routingID: hello.routingID)
        var writer = EnvelopeWriter(sender: "supervisor")
        try router.send(try writer.seal(CtlResponse(ok: true, message: "not a command")), routingID: hello.routingID)
        try router.send(try writer.seal(SupervisorCommand.shutdown(reason: "after garbage")), routingID: hello.routingID)
        #expect(await firstElement(of: client.commands) == .shutdown(reason: "after garbage"))
        #expect(metrics.malformed(WorkerControlClient.socketName, .truncated) == 1)
        #expect(metrics.malformed(WorkerControlClient.socketName, .unexpectedType) == 1)
    }

    /// Garbage into every socket kind the bus binds for receiving; counted, dropped, no crash.
    @Test(arguments: [(SocketKind.pull, SocketKind.push), (.router, .dealer), (.sub, .pub)])
    func garbageIntoEveryBoundSocketKind(bound: SocketKind, peer: SocketKind) async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/bound.sock"
        let metrics = TestMetrics()
        let receiver = try BusLoop(name: "bound", sockets: [SocketSpec(name: "bound", kind: bound, attachments: [.bind(endpoint)])],
                                   logger: testLogger, metrics: BusMetrics(factory: metrics))
        defer { receiver.close() }
        let sender = try BusLoop(name: "peer", sockets: [SocketSpec(name: "peer", kind: peer, attachments: [.connect(endpoint)])], logger: testLogger)
        defer { sender.close() }
        try writeRawJunk(toUnixSocket: "\(directory)/bound.sock")

        let garbage = try EnvelopeTests.malformedFrames().map(\.1)
        var writer = EnvelopeWriter(sender: "peer")
        let good = try writer.seal(AlertDoorbell(highestRowID: 5, newRows: 1))
        let pump = Task {
            // Repeat until the receiver has seen a valid message: PUB drops until the subscription arrives.
            while !Task.isCancelled {
                for frame in garbage { try? sender.send(frame) }
                try? sender.send(good)
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { pump.cancel() }
        var reader = EnvelopeReader(socket: "bound", maxFrameSize: 1024, metrics: BusMetrics(factory: metrics))
        var delivered: AlertDoorbell? = nil
        for await frame in receiver.inbox {
            if let message = reader.open(frame.payload, as: AlertDoorbell.self) {
                delivered = message
                break
            }
        }
        #expect(delivered == AlertDoorbell(highestRowID: 5, newRows: 1))
        #expect(metrics.counterTotal(label: BusMetrics.malformedFramesLabel, dimensions: [("socket", "bound")]) >= Int64(garbage.count))
        #expect(metrics.malformed("bound", .badMagic) >= 1)
    }
}

/// Connects a plain Unix stream socket and writes bytes that are not ZMTP.
func writeRawJunk(toUnixSocket path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    #expect(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        let bytes = Array(path.utf8.prefix(buffer.count - 1))
        buffer.copyBytes(from: bytes + [0])
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    #expect(connected == 0)
    let junk = [UInt8](repeating: 0xFF, count: 64) + Array("GET / HTTP/1.0\r\n\r\n".utf8)
    _ = junk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}
