import Foundation
import Testing
@testable import supervisor

/// Argument handling of `supervisor p2p …`; the protocols themselves are tested in LibP2PTests.
@Suite struct P2PCommandTests {
    @Test func keyPathDefaultsToTheStateDirectory() throws {
        let id = try P2PIDCommand.parse(["--state-dir", "/var/lib/chain-alerter"])
        #expect(id.identity.resolvedKeyPath == "/var/lib/chain-alerter/p2p-identity.key")
        let explicit = try P2PIDCommand.parse(["--key-path", "/etc/key", "--state-dir", "/x"])
        #expect(explicit.identity.resolvedKeyPath == "/etc/key")
    }

    @Test func idCreatesTheKeyOnceAndReusesIt() throws {
        let dir = NSTemporaryDirectory() + "p2p-cmd-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let command = try P2PIDCommand.parse(["--state-dir", dir])
        let first = try command.identity.loadIdentity().peerID
        let second = try command.identity.loadIdentity().peerID
        #expect(first == second)
        #expect(first.description.hasPrefix("12D3KooW"))
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/p2p-identity.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func pingAndIdentifyParse() throws {
        let ping = try P2PPingCommand.parse(["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", "--count", "2"])
        #expect(ping.count == 2)
        #expect(throws: (any Error).self) { try P2PPingCommand.parse(["/ip4/127.0.0.1/tcp/1", "--count", "0"]) }
        let identify = try P2PIdentifyCommand.parse(["/dns4/example.com/tcp/4001"])
        #expect(identify.address == "/dns4/example.com/tcp/4001")
    }

    @Test func publishNeedsHexAndSubscribeTakesACount() throws {
        let publish = try P2PPublishCommand.parse(["--peer", "/ip4/127.0.0.1/tcp/1", "--topic", "t", "--data", "0xcafe"])
        #expect(P2PCommandOutput.unhex(publish.data) == [0xca, 0xfe])
        #expect(throws: (any Error).self) { try P2PPublishCommand.parse(["--peer", "/ip4/127.0.0.1/tcp/1", "--topic", "t", "--data", "xyz"]) }
        let subscribe = try P2PSubscribeCommand.parse(["--peer", "/ip4/127.0.0.1/tcp/1", "--topic", "t", "--count", "2", "--timeout", "5"])
        #expect(subscribe.count == 2)
        #expect(subscribe.timeout == 5)
    }
}
