import Foundation
import Logging
import Metrics
import MetricsTestKit
import NIOCore
import NIOPosix
import Testing
@testable import LibP2P

/// Raw TCP bytes to a listening host: whatever they are, the host disconnects and counts them; it never crashes.
@Suite(.serialized) struct MalformedInputTests {
    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()

    func sendRaw(_ bytes: [UInt8], to port: Int) async throws -> Bool {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
        // Half-close, so that a host waiting for bytes a corrupted length promised sees the end at once.
        try? await channel.close(mode: .output).get()
        // The host closes on us; wait for that (bounded).
        let closed = try await within(10, "the host to close a connection that sent garbage") {
            try await channel.closeFuture.get()
            return true
        }
        return closed
    }

    @Test func garbageBeforeTheHandshakeIsCountedAndDisconnected() async throws {
        let metrics = Self.metrics
        let host = try makeHost()
        defer { Task { await host.close() } }
        let address = try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
        let port = address.tcpTarget!.port
        // A multistream length far over the limit; a line without newline; a wrong header.
        #expect(try await sendRaw([0xff, 0xff, 0xff, 0x0f] + [UInt8](repeating: 0x41, count: 64), to: port))
        #expect(try await sendRaw([0x03, 0x61, 0x62, 0x63], to: port))
        #expect(try await sendRaw(Array(Multistream.encode("/multistream/2.0.0").readableBytesView), to: port))
        try await Task.sleep(for: .milliseconds(200))
        let tooLong = try metrics.expectCounter(P2PMalformedInputCounter.label, [("reason", "too_long")])
        #expect(tooLong.totalValue >= 1)
        let invalid = try metrics.expectCounter(P2PMalformedInputCounter.label, [("reason", "invalid")])
        #expect(invalid.totalValue >= 1)
        let multistream = try metrics.expectCounter(P2PMalformedInputCounter.label, [("reason", "multistream")])
        #expect(multistream.totalValue >= 1)
    }

    /// Random corruptions of a valid handshake opening and of a Noise frame: never a crash, always a disconnect.
    @Test func mutatedHandshakeBytesNeverCrash() async throws {
        _ = Self.metrics
        let host = try makeHost()
        defer { Task { await host.close() } }
        let port = try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0")).tcpTarget!.port
        var valid = Array(Multistream.encode("/multistream/1.0.0").readableBytesView) + Array(Multistream.encode("/noise").readableBytesView)
        var handshake = NoiseXXHandshake(initiator: true, staticKey: .init())
        let m1 = try handshake.writeMessage1()
        valid += [UInt8(m1.count >> 8), UInt8(m1.count & 0xff)] + m1
        // a bogus message 3 follows, so that the responder has something to fail on after message 2
        valid += [0x00, 0x40] + [UInt8](repeating: 0x5a, count: 64)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<25 {
            var mutated = valid
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<mutated.count, using: &generator)
                mutated[index] = UInt8.random(in: 0...255, using: &generator)
            }
            #expect(try await sendRaw(mutated, to: port))
        }
        // Still serving after all that.
        let client = try makeHost()
        defer { Task { await client.close() } }
        let connection = try await client.dial(try Multiaddr("/ip4/127.0.0.1/tcp/\(port)"))
        #expect(try await Ping.ping(connection).count == 1)
    }
}

@Suite struct DecoderFuzzTests {
    /// Bounded mutation fuzzing of each decoder: corrupted valid inputs give a value or a typed error, never a crash.
    @Test func decodersSurviveMutations() throws {
        var generator = SystemRandomNumberGenerator()
        let identity = IdentityKey.generate()
        let samples: [[UInt8]] = [
            try Multiaddr("/ip4/1.2.3.4/tcp/4001/p2p/\(identity.peerID)").bytes,
            try Multiaddr("/dns4/example.com/tcp/443").bytes,
            identity.peerID.bytes,
            identity.fileBytes,
            YamuxHeader(type: .data, flags: .syn, streamID: 3, length: 100).bytes,
            CID(topic: "t").bytes,
            UVarint.encode(123_456_789),
        ]
        func mutate(_ input: [UInt8]) -> [UInt8] {
            var out = input
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: if !out.isEmpty { out[Int.random(in: 0..<out.count, using: &generator)] = .random(in: 0...255, using: &generator) }
            case 1: out = Array(out.prefix(Int.random(in: 0...out.count, using: &generator)))
            case 2: out.insert(.random(in: 0...255, using: &generator), at: Int.random(in: 0...out.count, using: &generator))
            default: out += (0..<Int.random(in: 1...8, using: &generator)).map { _ in .random(in: 0...255, using: &generator) }
            }
            return out
        }
        var typedErrors = 0
        for sample in samples {
            for _ in 0..<500 {
                let input = mutate(sample)
                do { _ = try Multiaddr(bytes: input) } catch { typedErrors += 1 }
                do { _ = try PeerID(bytes: input) } catch { typedErrors += 1 }
                do { _ = try IdentityKey(fileBytes: input) } catch { typedErrors += 1 }
                do { _ = try CID(bytes: input) } catch { typedErrors += 1 }
                do { _ = try UVarint.decode(input) } catch { typedErrors += 1 }
                if input.count == 12 { do { _ = try YamuxHeader(bytes: input) } catch { typedErrors += 1 } }
                do { _ = try Identify.decode(input, from: identity.peerID) } catch { typedErrors += 1 }
                do { _ = try Multistream.decodeLine(ByteBuffer(bytes: input)) } catch { typedErrors += 1 }
                do { _ = try NoisePayload.verify(input, remoteStatic: .init(rawRepresentation: [UInt8](repeating: 9, count: 32))) } catch { typedErrors += 1 }
            }
        }
        #expect(typedErrors > 1000)
    }
}
