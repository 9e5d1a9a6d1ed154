import ArgumentParser
import Foundation
import LibP2P
import Logging

/// `supervisor p2p …`: what an operator runs to ask "can this machine reach the libp2p network?"
/// (INTERFACE.md, Commands and Semantics 10). These dial exactly the address they are given.
struct P2PCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2p",
        abstract: "libp2p diagnostics: this instance's peer ID; identify, ping, subscribe and publish through a peer.",
        subcommands: [P2PIDCommand.self, P2PIdentifyCommand.self, P2PPingCommand.self, P2PSubscribeCommand.self, P2PPublishCommand.self]
    )
}

/// Options shared by the p2p subcommands: where the identity key lives.
struct P2PIdentityOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "State directory ($STATE_DIRECTORY or ./state); the key defaults to <state-dir>/p2p-identity.key.")
    var stateDir: String?

    @Option(name: .customLong("key-path"), help: "The Ed25519 identity key file (libp2p protobuf format), created mode 0600 when missing.")
    var keyPath: String?

    var resolvedKeyPath: String {
        if let keyPath { return keyPath }
        let environment = ProcessInfo.processInfo.environment
        let directory = stateDir
            ?? environment["STATE_DIRECTORY"].flatMap { $0.split(separator: ":").first.map(String.init) }
            ?? "./state"
        return directory + "/p2p-identity.key"
    }

    func loadIdentity() throws -> IdentityKey {
        do { return try IdentityKey.loadOrCreate(at: resolvedKeyPath) } catch {
            P2PCommandOutput.fail("\(error)")
        }
    }
}

enum P2PCommandOutput {
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("p2p: \(message)\n".utf8))
        Foundation.exit(1)
    }

    static func quietLogger() -> Logger {
        var logger = Logger(label: "chain-alerter.p2p")
        logger.logLevel = .warning
        return logger
    }

    static func parseAddress(_ text: String) -> Multiaddr {
        do { return try Multiaddr(text) } catch { fail("\(error)") }
    }

    /// Runs `body` with a host, failing after `timeout` seconds.
    static func withHost<T: Sendable>(_ identity: IdentityKey, timeout: Double, _ what: String,
                                      _ body: @escaping @Sendable (P2PHost) async throws -> T) async -> T {
        let host = P2PHost(identity: identity, logger: quietLogger())
        do {
            let value = try await withP2PDeadline(seconds: timeout, what) { try await body(host) }
            await host.close()
            return value
        } catch {
            await host.close()
            fail("\(error)")
        }
    }
}

/// `supervisor p2p id`: prints this instance's peer ID.
struct P2PIDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "id", abstract: "Print this instance's libp2p peer ID (creating the key file when missing).")

    @OptionGroup var identity: P2PIdentityOptions

    func run() throws {
        print(try identity.loadIdentity().peerID)
    }
}

/// `supervisor p2p identify MULTIADDR`: dials and prints the peer's identify answer as JSON.
struct P2PIdentifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "identify", abstract: "Dial a libp2p peer (TCP, Noise, yamux), run identify, print JSON.")

    @Argument(help: "The peer's multiaddr, e.g. /ip4/1.2.3.4/tcp/4001/p2p/12D3KooW…")
    var address: String

    @Option(name: .long, help: "Seconds to wait for the whole exchange.")
    var timeout: Double = 20

    @OptionGroup var identity: P2PIdentityOptions

    struct Output: Encodable {
        var peer_id: String
        var agent_version: String
        var protocol_version: String
        var protocols: [String]
        var listen_addrs: [String]
    }

    func run() async throws {
        let target = P2PCommandOutput.parseAddress(address)
        let info = await P2PCommandOutput.withHost(try identity.loadIdentity(), timeout: timeout, "identify") { host in
            try await Identify.ask(try await host.dial(target))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let output = Output(peer_id: info.peerID.description, agent_version: info.agentVersion, protocol_version: info.protocolVersion,
                            protocols: info.protocols, listen_addrs: info.listenAddresses.map(\.description))
        print(String(decoding: try encoder.encode(output), as: UTF8.self))
    }
}

/// `supervisor p2p ping MULTIADDR`: one `time=<ms> ms` line per round trip.
struct P2PPingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ping", abstract: "libp2p ping (/ipfs/ping/1.0.0); prints each round-trip time.")

    @Argument(help: "The peer's multiaddr.")
    var address: String

    @Option(name: .long, help: "Number of pings.")
    var count: Int = 3

    @Option(name: .long, help: "Seconds to wait for all of them.")
    var timeout: Double = 30

    @OptionGroup var identity: P2PIdentityOptions

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
    }

    func run() async throws {
        let target = P2PCommandOutput.parseAddress(address)
        let count = count
        let times = await P2PCommandOutput.withHost(try identity.loadIdentity(), timeout: timeout, "ping") { host in
            try await Ping.ping(try await host.dial(target), count: count)
        }
        for time in times {
            let ms = Double(time.components.seconds) * 1000 + Double(time.components.attoseconds) / 1e15
            print(String(format: "time=%.3f ms", ms))
        }
    }
}

/// `supervisor p2p subscribe --peer MULTIADDR --topic T`: one JSON line per gossipsub message.
struct P2PSubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "subscribe", abstract: "Join a gossipsub topic through one peer and print each message as a JSON line.")

    @Option(name: .long, help: "The peer to join through.")
    var peer: String

    @Option(name: .long, help: "The topic.")
    var topic: String

    @Option(name: .long, help: "Exit 0 after this many messages (default: run until the timeout).")
    var count: Int?

    @Option(name: .long, help: "Seconds to run before giving up (exit 1 when --count was not reached).")
    var timeout: Double = 3600

    @OptionGroup var identity: P2PIdentityOptions

    struct Line: Encodable {
        var from: String
        var seqno: String
        var topic: String
        var data: String
    }

    func run() async throws {
        let target = P2PCommandOutput.parseAddress(peer)
        let topic = topic, count = count
        _ = await P2PCommandOutput.withHost(try identity.loadIdentity(), timeout: timeout, "\(count.map(String.init) ?? "the") messages") { host in
            let gossip = Gossipsub(host: host)
            defer { gossip.stop() }
            gossip.start()
            gossip.join(topic)
            try await gossip.addPeer(try await host.dial(target))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var seen = 0
            for await message in gossip.messages where message.topic == topic {
                let line = Line(from: message.from.description, seqno: P2PCommandOutput.hex(message.seqno), topic: message.topic,
                                data: P2PCommandOutput.hex(message.data))
                // Unbuffered, so that a pipe sees each message as it arrives.
                FileHandle.standardOutput.write(try encoder.encode(line) + Data("\n".utf8))
                seen += 1
                if let count, seen >= count { return true }
            }
            return true
        }
    }
}

/// `supervisor p2p publish --peer MULTIADDR --topic T --data HEX`: publishes once the peer is in the topic's mesh.
struct P2PPublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "publish", abstract: "Publish one signed gossipsub message through one peer.")

    @Option(name: .long, help: "The peer to publish through.")
    var peer: String

    @Option(name: .long, help: "The topic.")
    var topic: String

    @Option(name: .long, help: "The message bytes as hex.")
    var data: String

    @Option(name: .long, help: "Seconds to wait for the peer to join the topic's mesh.")
    var timeout: Double = 30

    @OptionGroup var identity: P2PIdentityOptions

    func validate() throws {
        guard P2PCommandOutput.unhex(data) != nil else { throw ValidationError("--data must be hex (an even number of 0-9a-f digits)") }
    }

    func run() async throws {
        let target = P2PCommandOutput.parseAddress(peer)
        let topic = topic, bytes = P2PCommandOutput.unhex(data) ?? []
        _ = await P2PCommandOutput.withHost(try identity.loadIdentity(), timeout: timeout, "the peer to join the topic's mesh") { host in
            let gossip = Gossipsub(host: host)
            defer { gossip.stop() }
            gossip.start()
            gossip.join(topic)
            let connection = try await host.dial(target)
            try await gossip.addPeer(connection)
            while !gossip.meshPeers(topic).contains(connection.remotePeer) { try await Task.sleep(for: .milliseconds(100)) }
            try gossip.publish(topic: topic, data: bytes)
            // Let the writer hand the RPC to the connection before the host closes.
            try await Task.sleep(for: .milliseconds(500))
            return true
        }
        print("published \(bytes.count) bytes to \(topic)")
    }
}

extension P2PCommandOutput {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func unhex(_ text: String) -> [UInt8]? {
        let body = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
        let digits = Array(body.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i...i + 1], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}
