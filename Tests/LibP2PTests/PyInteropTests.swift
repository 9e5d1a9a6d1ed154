import Crypto
import Foundation
import NIOCore
import Testing
@testable import LibP2P

/// Interop with py-libp2p 0.8.1 (`Fixtures/py_peer.py`) over loopback TCP, in both directions.
/// These fail, never skip, when `.build-pyvenv` or py-libp2p is missing.
@Suite(.serialized) struct PyInteropTests {
    static let pySeed = String(repeating: "11", count: 32)
    static let pyPeerID = "12D3KooWPqT2nMDSiXUSx5D7fasaxhxKigVhcqfkKqrLghCq9jxz"

    @Test func venvWithPyLibp2pIsInstalled() throws {
        try PyPeer.requireInstalled()
    }

    /// Swift dials py: Noise as initiator, identify, ping, concurrent yamux streams with half-close,
    /// 1.5 MiB on one stream, and a reset from py.
    @Test func swiftDialsPy() async throws {
        let py = try PyPeer(["listen", Self.pySeed])
        defer { py.stop() }
        let address = try await py.listenAddress()
        #expect(address.peerID?.description == Self.pyPeerID)
        let host = try makeHost()
        defer { Task { await host.close() } }
        let connection = try await within(20, "dialing py") { try await host.dial(address) }
        #expect(connection.remotePeer.description == Self.pyPeerID)

        let info = try await within(20, "identify from py") { try await Identify.ask(connection) }
        #expect(info.peerID.description == Self.pyPeerID)
        #expect(info.protocols.contains("/ipfs/ping/1.0.0"))
        #expect(info.protocols.contains("/test/echo/1.0.0"))
        #expect(!info.agentVersion.isEmpty)

        let times = try await within(20, "ping py") { try await Ping.ping(connection, count: 3) }
        #expect(times.count == 3)

        try await within(30, "concurrent echo streams") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<4 {
                    group.addTask {
                        let stream = try await connection.openStream("/test/echo/1.0.0")
                        let payload = (0..<(50_000 * (i + 1))).map { UInt8(truncatingIfNeeded: $0 &* (i + 7)) }
                        async let sent: Void = { try await stream.write(payload); try await stream.closeWrite() }()
                        let echoed = try await stream.stream.readToEnd(limit: 1 << 20)
                        try await sent
                        #expect(Array(echoed.readableBytesView) == payload, "echo stream \(i)")
                    }
                }
                try await group.waitForAll()
            }
        }

        let big = (0..<(1_572_864)).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let reply = try await within(30, "1.5 MiB to py") {
            let stream = try await connection.openStream("/test/sum/1.0.0")
            try await stream.write(big)
            try await stream.closeWrite()
            return String(decoding: try await stream.stream.readToEnd(limit: 1024).readableBytesView, as: UTF8.self)
        }
        let digest = SHA256.hash(data: big).map { String(format: "%02x", $0) }.joined()
        #expect(reply == "\(big.count) \(digest)")

        try await within(20, "reset by py") {
            let stream = try await connection.openStream("/test/reset/1.0.0")
            try await stream.write([0x01])
            await #expect(throws: P2PStreamError.reset) { while try await stream.read() != nil {} }
        }
        _ = try await py.line(within: 10, "py's record of the reset") { $0.contains("\"reset\"") }
    }

    @Test func swiftRefusesPyUnderAWrongPeerID() async throws {
        let py = try PyPeer(["listen", Self.pySeed])
        defer { py.stop() }
        let address = try await py.listenAddress()
        let other = IdentityKey.generate().peerID
        let host = try makeHost()
        defer { Task { await host.close() } }
        await #expect {
            try await host.dial(Multiaddr(address.withoutPeerID.components + [.p2p(other)]))
        } throws: { error in
            guard case .peerIDMismatch(_, let actual) = error as? NoiseError else { return false }
            return actual == Self.pyPeerID
        }
    }

    /// py dials Swift: Noise with Swift as responder, identify and ping answered by Swift, concurrent echo
    /// streams served by Swift, 1.5 MiB received by Swift.
    @Test func pyDialsSwift() async throws {
        let host = try makeHost(seed: 0x22)
        defer { Task { await host.close() } }
        host.setHandler("/test/echo/1.0.0", echoHandler)
        host.setHandler("/test/sum/1.0.0") { stream in
            let body = try await stream.stream.readToEnd(limit: 4 << 20)
            let digest = SHA256.hash(data: Array(body.readableBytesView)).map { String(format: "%02x", $0) }.joined()
            try await stream.write(Array("\(body.readableBytes) \(digest)".utf8))
        }
        let address = try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
        let py = try PyPeer(["dial", String(repeating: "33", count: 32), address.description])
        defer { py.stop() }
        let line = try await py.line(within: 60, "the dial result") { $0.hasPrefix("{") }
        let result = try jsonObject(line)
        #expect(result["connected"] as? Bool == true)
        let identify = result["identify"] as? [String: Any]
        #expect(identify?["agent_version"] as? String == "chain-alerter/libp2p")
        #expect((identify?["protocols"] as? [String])?.contains("/test/echo/1.0.0") == true)
        #expect(identify?["public_key_hex"] as? String == hex(host.identity.encodedPublicKey))
        #expect(result["pings"] as? Int == 3)
        #expect(result["echoes_ok"] as? Bool == true)
        #expect(result["sum_reply"] as? String == result["sum_expected"] as? String)
        #expect(try await py.waitForExit(within: 20) == 0)
    }
}
