import Foundation
import MetricsTestKit
import Testing
@testable import Wire
@testable import SubstratePrimitives
import TestKit

@Suite struct EnvelopeTests {
    private func frame(_ message: some BusMessage, sender: String = "node-watcher-0", sequence: UInt64 = 1) throws -> [UInt8] {
        try Envelope.encode(messageType: type(of: message).messageType, sender: sender, sequence: sequence, payload: message.encodePayload())
    }

    private let doorbell = AlertDoorbell(highestRowID: 42, newRows: 3)

    @Test func roundTripKeepsHeaderAndPayload() throws {
        let bytes = try frame(doorbell, sender: "alert-worker", sequence: 7)
        let envelope = try Envelope.decode(bytes)
        #expect(envelope.header == EnvelopeHeader(messageType: .alertDoorbell, encoding: .scale, sender: "alert-worker", sequence: 7,
                                                  payloadLength: envelope.payload.count))
        #expect(try envelope.decode(AlertDoorbell.self) == doorbell)
        #expect(bytes.count == EnvelopeHeader.fixedSize + "alert-worker".utf8.count + envelope.payload.count)
    }

    @Test func writerNumbersMessagesFromOne() throws {
        var writer = EnvelopeWriter(sender: "fork-worker")
        let first = try Envelope.decode(writer.seal(doorbell))
        let second = try Envelope.decode(writer.seal(doorbell))
        #expect(first.header.sequence == 1)
        #expect(second.header.sequence == 2)
        #expect(first.header.sender == "fork-worker")
    }

    /// Every way a frame can be bad, with the reason it is counted under.
    static func malformedFrames() throws -> [(String, [UInt8], MalformedFrameReason)] {
        let good = try Envelope.encode(messageType: .alertDoorbell, sender: "a", sequence: 1,
                                       payload: AlertDoorbell(highestRowID: 1, newRows: 1).encodePayload())
        var badVersion = good
        badVersion[2] = 99
        var unknownType = good
        unknownType[4] = 0xEE
        unknownType[5] = 0xEE
        var unknownEncoding = good
        unknownEncoding[3] = 9
        var wrongEncoding = good
        wrongEncoding[3] = PayloadEncoding.json.rawValue
        var longerDeclared = good
        longerDeclared[16] &+= 1
        var badSender = good
        badSender[EnvelopeHeader.fixedSize] = 0xFF
        let badPayload = try Envelope.encode(messageType: .alertDoorbell, sender: "a", sequence: 1, payload: [1, 2, 3])
        let badJSON = try Envelope.encode(messageType: .workerHello, sender: "a", sequence: 1, payload: Array("{not json".utf8))
        return [
            ("empty", [], .truncated),
            ("short", Array(good.prefix(10)), .truncated),
            ("garbage", Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), .badMagic),
            ("version", badVersion, .unsupportedVersion),
            ("unknown type", unknownType, .unknownType),
            ("unknown encoding", unknownEncoding, .unknownEncoding),
            ("wrong encoding", wrongEncoding, .encodingMismatch),
            ("payload cut", Array(good.dropLast()), .lengthMismatch),
            ("trailing", good + [0], .lengthMismatch),
            ("declared longer", longerDeclared, .lengthMismatch),
            ("sender utf8", badSender, .invalidSender),
            ("oversized", good + [UInt8](repeating: 0, count: 2000), .oversized),
            ("scale payload", badPayload, .undecodablePayload),
            ("json payload", badJSON, .undecodablePayload),
        ]
    }

    @Test func malformedFramesAreCountedByReasonAndDropped() throws {
        let metrics = TestMetrics()
        var reader = EnvelopeReader(socket: "test-in", maxFrameSize: 1024, metrics: BusMetrics(factory: metrics))
        for (name, bytes, reason) in try Self.malformedFrames() {
            let before = metrics.malformed("test-in", reason)
            if reason == .undecodablePayload {
                let opened = reader.open(bytes)
                let envelope = try #require(opened, "\(name)")
                var decoded = false
                switch envelope.header.messageType {
                case .workerHello: decoded = reader.open(bytes, as: WorkerHello.self) != nil
                default: decoded = reader.open(bytes, as: AlertDoorbell.self) != nil
                }
                #expect(!decoded, "\(name)")
            } else {
                #expect(reader.open(bytes) == nil, "\(name)")
            }
            #expect(metrics.malformed("test-in", reason) == before + 1, "\(name) should count as \(reason)")
        }
        // The reader still works afterwards.
        #expect(reader.open(try frame(doorbell, sender: "z", sequence: 1), as: AlertDoorbell.self) == doorbell)
    }

    @Test func randomBytesNeverTrap() throws {
        var generator = SystemRandomNumberGenerator()
        var reader = EnvelopeReader(socket: "fuzz", maxFrameSize: 4096, metrics: BusMetrics(factory: TestMetrics()))
        let good = try frame(BlockSeen(node: "a", subscription: .newHeads, header: [1, 2, 3], receivedAtMilliseconds: 9))
        for round in 0 ..< 5000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0 ..< Int.random(in: 0 ..< 64, using: &generator)).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
            } else {
                // Mutate a valid frame so the deeper checks get exercised too.
                bytes = good
                for _ in 0 ..< Int.random(in: 1 ... 4, using: &generator) {
                    bytes[Int.random(in: 0 ..< bytes.count, using: &generator)] = UInt8.random(in: 0 ... 255, using: &generator)
                }
            }
            _ = reader.open(bytes, as: BlockSeen.self)
        }
    }

    @Test func sequenceGapsAreCountedPerSender() throws {
        let metrics = TestMetrics()
        var reader = EnvelopeReader(socket: "in", metrics: BusMetrics(factory: metrics))
        for sequence: UInt64 in [1, 2, 3, 7, 8] { _ = reader.open(try frame(doorbell, sender: "a", sequence: sequence)) }
        for sequence: UInt64 in [10, 11, 13] { _ = reader.open(try frame(doorbell, sender: "b", sequence: sequence)) }
        // "a" restarts: back to 1 is a reset, not a gap.
        _ = reader.open(try frame(doorbell, sender: "a", sequence: 1))
        #expect(metrics.counterTotal(label: BusMetrics.sequenceGapsLabel, dimensions: [("sender", "a")]) == 1)
        #expect(metrics.counterTotal(label: BusMetrics.messagesMissedLabel, dimensions: [("sender", "a")]) == 3)
        #expect(metrics.counterTotal(label: BusMetrics.sequenceGapsLabel, dimensions: [("sender", "b")]) == 1)
        #expect(metrics.counterTotal(label: BusMetrics.messagesMissedLabel, dimensions: [("sender", "b")]) == 1)
        #expect(metrics.counterTotal(label: BusMetrics.sequenceResetsLabel, dimensions: [("sender", "a")]) == 1)
    }

    @Test func senderIdIsBounded() {
        #expect(throws: EnvelopeError.senderTooLong(300)) {
            _ = try Envelope.encode(messageType: .alertDoorbell, sender: String(repeating: "x", count: 300), sequence: 1, payload: [])
        }
    }

    /// Bad frames over a real PULL socket: counted, dropped, and the receiver keeps receiving.
    @Test func receiverSurvivesGarbageOverARealSocket() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = TestMetrics()
        let endpoint = "ipc://\(directory)/in.sock"
        let pull = try BusLoop(name: "pull", sockets: [SocketSpec(name: "in", kind: .pull, attachments: [.bind(endpoint)])], logger: testLogger,
                               metrics: BusMetrics(factory: metrics))
        let push = try BusLoop(name: "push", sockets: [SocketSpec(name: "out", kind: .push, attachments: [.connect(endpoint)])], logger: testLogger)
        defer { push.close(); pull.close() }
        let bad = try Self.malformedFrames().filter { $0.2 != .undecodablePayload && $0.2 != .oversized }
        for (_, bytes, _) in bad { try push.send(bytes) }
        var writer = EnvelopeWriter(sender: "alert-worker")
        try push.send(try writer.seal(doorbell))

        var reader = EnvelopeReader(socket: "in", maxFrameSize: 1024, metrics: BusMetrics(factory: metrics))
        var delivered: [AlertDoorbell] = []
        for await frame in pull.inbox {
            if let message = reader.open(frame.payload, as: AlertDoorbell.self) {
                delivered.append(message)
                break
            }
        }
        #expect(delivered == [doorbell])
        #expect(metrics.counterTotal(label: BusMetrics.malformedFramesLabel) == Int64(bad.count))
    }
}

@Suite struct EnvelopeWriterTests {
    @Test func sealMatchesTheReferenceEncoding() throws {
        var writer = EnvelopeWriter(sender: "node-watcher-0")
        let message = NodeStatus(node: "a", connected: true, bestHeight: 5, rpcLatencyMilliseconds: 3, observedAtMilliseconds: 9)
        let sealed = try writer.seal(message)
        let reference = try Envelope.encode(messageType: .nodeStatus, sender: "node-watcher-0", sequence: 1, payload: message.encodePayload())
        #expect(sealed == reference)
        let hello = WorkerHello(worker: "w", role: .notifier, pid: 1)
        let sealedHello = try writer.seal(hello)
        let referenceHello = try Envelope.encode(messageType: .workerHello, sender: "node-watcher-0", sequence: 2, payload: hello.encodePayload())
        #expect(sealedHello == referenceHello, "\(sealedHello) vs \(referenceHello)")
    }

    @Test func overlongSenderIsCutAtACharacterBoundary() throws {
        let writer = EnvelopeWriter(sender: String(repeating: "é", count: 200))
        #expect(writer.sender.utf8.count <= EnvelopeHeader.maxSenderLength)
        #expect(writer.sender.allSatisfy { $0 == "é" })
    }

    @Test func interleavedSendersAreTrackedSeparately() {
        var tracker = SequenceTracker()
        #expect(tracker.observe(sender: "a", sequence: 1) == .inOrder)
        #expect(tracker.observe(sender: "b", sequence: 10) == .inOrder)
        #expect(tracker.observe(sender: "a", sequence: 2) == .inOrder)
        #expect(tracker.observe(sender: "b", sequence: 12) == .gap(missing: 1))
        #expect(tracker.observe(sender: "a", sequence: 3) == .inOrder)
        #expect(tracker.observe(sender: "a", sequence: 3) == .reset)
    }
}
