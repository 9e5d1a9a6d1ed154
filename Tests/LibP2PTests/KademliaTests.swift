import Foundation
import Testing
@testable import LibP2P

/// The Kademlia client against py-libp2p 0.8.1's DHT server, over loopback TCP.
@Suite(.serialized) struct KademliaInteropTests {
    @Test func providersAreAnnouncedAndFoundThroughPy() async throws {
        let py = try PyPeer(["kad", String(repeating: "77", count: 32)])
        defer { py.stop() }
        let address = try await py.listenAddress()
        let pyID = try #require(address.peerID)
        let provider = try makeHost(), seeker = try makeHost()
        defer { Task { await provider.close(); await seeker.close() } }
        let providerAddress = try await provider.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
        let topic = CID(topic: "bitcoin_alert_system")

        // Swift provides the topic CID at py; a second Swift host finds it there.
        let toPy = try await within(20, "dial py") { try await provider.dial(address) }
        try await within(20, "ADD_PROVIDER") {
            try await KademliaClient(host: provider).addProvider(topic, addresses: [providerAddress.withoutPeerID], on: toPy)
        }
        // ADD_PROVIDER has no reply, so py's store is polled.
        let providerID = provider.peerID.description
        var stored = false
        for _ in 0..<50 where !stored {
            py.send("providers \(topic)")
            try await Task.sleep(for: .milliseconds(200))
            stored = py.output.contains { $0.contains("\"providers\"") && $0.contains(providerID) }
        }
        #expect(stored, "py's provider store never listed the Swift provider: \(py.output)")
        let seekerConnection = try await within(20, "dial py") { try await seeker.dial(address) }
        let found = try await within(20, "GET_PROVIDERS") { try await KademliaClient(host: seeker).getProviders(topic, on: seekerConnection) }
        let record = found.providers.first { $0.id == provider.peerID }
        #expect(record != nil)
        #expect(record?.addresses.contains(providerAddress.withoutPeerID) == true)

        // py provides another CID; Swift finds py as its provider.
        let other = CID(topic: "another-topic")
        py.send("provide \(other)")
        _ = try await py.line(within: 10, "py's provide") { $0.contains("\"provided\"") }
        let pyProviders = try await within(20, "GET_PROVIDERS for py's CID") { try await KademliaClient(host: seeker).getProviders(other, on: seekerConnection) }
        #expect(pyProviders.providers.map(\.id).contains(pyID))

        // A FIND_NODE walk from py answers (py knows at least the provider that talked to it).
        let closest = try await within(20, "FIND_NODE walk") { await KademliaClient(host: seeker).walk(toward: topic.multihash, from: [seekerConnection]) }
        #expect(closest.map(\.id).contains(pyID))
    }
}
