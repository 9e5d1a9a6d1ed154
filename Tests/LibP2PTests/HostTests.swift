import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
@testable import LibP2P

func makeHost(seed: UInt8? = nil) throws -> P2PHost {
    let identity = try seed.map { try IdentityKey(seed: [UInt8](repeating: $0, count: 32)) } ?? IdentityKey.generate()
    var logger = Logger(label: "libp2p-test")
    logger.logLevel = ProcessInfo.processInfo.environment["LIBP2P_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return P2PHost(identity: identity, logger: logger)
}

/// Echo until EOF, then half-close (returning from the handler does that).
let echoHandler: P2PStreamHandler = { stream in
    while let chunk = try await stream.read() { try await stream.write(chunk) }
}

@Suite(.serialized) struct SwiftHostTests {
    @Test func dialListenIdentifyPingAndEcho() async throws {
        let server = try makeHost(), client = try makeHost()
        defer { Task { await server.close(); await client.close() } }
        server.setHandler("/test/echo/1.0.0", echoHandler)
        let address = try await server.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
        #expect(address.peerID == server.peerID)
        let connection = try await within(10, "dial") { try await client.dial(address) }
        #expect(connection.remotePeer == server.peerID)

        let info = try await within(10, "identify") { try await Identify.ask(connection) }
        #expect(info.agentVersion == "chain-alerter/libp2p")
        #expect(info.protocols.contains("/test/echo/1.0.0"))
        #expect(info.protocols.contains(Ping.protocolID))
        #expect(info.listenAddresses.contains(address.withoutPeerID))

        let times = try await within(10, "ping") { try await Ping.ping(connection, count: 3) }
        #expect(times.count == 3)
        _ = try await within(10, "yamux ping") { try await connection.muxerPing() }

        // Several streams at once, each more than one yamux window, with half-close.
        let diagnostics: @Sendable () -> String = { "client: \(connection.session.streamStates) server: \(server.connections.map(\.session.streamStates))" }
        try await within(20, "echo streams", diagnostics) { try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<4 {
                group.addTask {
                    let stream = try await connection.openStream("/test/echo/1.0.0")
                    let payload = [UInt8](repeating: UInt8(i), count: 300_000 + i)
                    async let sent: Void = { try await stream.write(payload); try await stream.closeWrite() }()
                    let echoed = try await stream.stream.readToEnd(limit: 1 << 20)
                    try await sent
                    #expect(Array(echoed.readableBytesView) == payload)
                }
            }
            try await group.waitForAll()
        } }
    }

    @Test func unknownProtocolIsRefusedWithNa() async throws {
        let server = try makeHost(), client = try makeHost()
        defer { Task { await server.close(); await client.close() } }
        let address = try await server.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
        let connection = try await client.dial(address)
        await #expect(throws: MultistreamError.noProtocolAgreed(["/nope/1.0.0"])) { try await connection.openStream("/nope/1.0.0") }
        // The connection is still usable; ls lists what the server serves.
        let stream = try await connection.session.openStream()
        let listed = try await Multistream.listProtocols(on: stream)
        #expect(listed.contains(Identify.protocolID))
        #expect(listed.contains(Ping.protocolID))
    }

    @Test func wrongExpectedPeerIDIsRefused() async throws {
        let server = try makeHost(), client = try makeHost()
        defer { Task { await server.close(); await client.close() } }
        let address = try await server.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
        let other = IdentityKey.generate().peerID
        let wrong = Multiaddr(address.withoutPeerID.components + [.p2p(other)])
        await #expect {
            try await client.dial(wrong)
        } throws: { error in
            guard case .peerIDMismatch(let expected, let actual) = error as? NoiseError else { return false }
            return expected == other.description && actual == server.peerID.description
        }
    }

    @Test func resetReachesThePeerAndRequestResponseWorks() async throws {
        let server = try makeHost(), client = try makeHost()
        defer { Task { await server.close(); await client.close() } }
        server.setHandler("/test/reset/1.0.0") { stream in
            _ = try await stream.read()
            await stream.reset()
        }
        server.setHandler("/test/rr/1.0.0") { stream in
            let request = try await stream.readMessage(limit: 1024)
            try await stream.writeMessage(request.reversed())
        }
        let connection = try await client.dial(try await server.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0")))
        let stream = try await connection.openStream("/test/reset/1.0.0")
        try await stream.write([1])
        await #expect(throws: P2PStreamError.reset) { while try await stream.read() != nil {} }

        let rr = try await connection.openStream("/test/rr/1.0.0")
        try await rr.writeMessage([1, 2, 3])
        #expect(try await rr.readMessage(limit: 16) == [3, 2, 1])
    }

    @Test func streamLimitPerConnectionIsEnforced() async throws {
        let identity = IdentityKey.generate()
        var options = P2PHostOptions()
        options.maxStreamsPerConnection = 4
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let server = P2PHost(identity: identity, options: options, logger: logger)
        let client = try makeHost()
        defer { Task { await server.close(); await client.close() } }
        server.setHandler("/test/hold/1.0.0") { stream in _ = try await stream.read() }
        let connection = try await client.dial(try await server.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0")))
        var held: [P2PStream] = []
        for _ in 0..<4 { held.append(try await connection.openStream("/test/hold/1.0.0")) }
        // The fifth is reset by the server instead of being served.
        await #expect(throws: (any Error).self) { _ = try await connection.openStream("/test/hold/1.0.0") }
        #expect(connection.isActive)
        _ = held
    }
}
