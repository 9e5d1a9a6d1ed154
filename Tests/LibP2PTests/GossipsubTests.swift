import Foundation
import NIOCore
import Testing
@testable import LibP2P

/// The gossipsub state machine, driven with explicit instants (no sleeping).
@Suite struct GossipsubRouterTests {
    let start = ContinuousClock.now
    func peer(_ n: UInt8) throws -> IdentityKey { try IdentityKey(seed: [UInt8](repeating: n, count: 32)) }

    func subscribe(_ topic: String) -> P2p_Pubsub_RPC {
        var rpc = P2p_Pubsub_RPC()
        rpc.subscriptions = [GossipsubRouter.subOpts(topic, true)]
        return rpc
    }

    func sent(_ actions: [GossipsubRouter.Action]) -> [(PeerID, P2p_Pubsub_RPC)] {
        actions.compactMap { if case .send(let p, let r) = $0 { (p, r) } else { nil } }
    }

    @Test func meshIsGraftedToDAndPrunedAboveDHigh() throws {
        var router = GossipsubRouter(localPeer: try peer(1).peerID)
        let peers = try (10..<30).map { try peer($0).peerID }
        for p in peers {
            _ = router.addPeer(p)
            _ = router.handle(subscribe("t"), from: p, now: start)
        }
        let joined = sent(router.join("t", now: start))
        #expect(joined.count == 20)  // every peer hears of the subscription
        #expect(joined.filter { !$0.1.control.graft.isEmpty }.count == 6)
        #expect(router.mesh["t"]?.count == 6)
        // 10 more graft us: the mesh grows to D_hi and the rest are pruned with backoff.
        var pruned = 0
        for p in peers where !(router.mesh["t"]?.contains(p) ?? false) {
            var graft = P2p_Pubsub_RPC()
            var g = P2p_Pubsub_ControlGraft()
            g.topicID = "t"
            graft.control.graft = [g]
            pruned += sent(router.handle(graft, from: p, now: start) ?? []).filter { !$0.1.control.prune.isEmpty }.count
        }
        #expect(router.mesh["t"]?.count == 12)
        #expect(pruned == 8)
        // A heartbeat keeps it at D_hi (not above), and gossip goes to non-mesh peers.
        _ = router.heartbeat(now: start + .seconds(1))
        #expect(router.mesh["t"]?.count == 12)
    }

    @Test func heartbeatGraftsWhenBelowDLowAndRespectsBackoff() throws {
        var router = GossipsubRouter(localPeer: try peer(1).peerID)
        _ = router.join("t", now: start)
        let a = try peer(2).peerID
        _ = router.addPeer(a)
        _ = router.handle(subscribe("t"), from: a, now: start)
        var prune = P2p_Pubsub_RPC()
        var p = P2p_Pubsub_ControlPrune()
        p.topicID = "t"
        p.backoff = 10
        prune.control.prune = [p]
        _ = router.handle(prune, from: a, now: start)
        #expect(sent(router.heartbeat(now: start + .seconds(1))).allSatisfy { $0.1.control.graft.isEmpty })
        #expect(router.mesh["t"]?.isEmpty ?? true)
        let later = sent(router.heartbeat(now: start + .seconds(11)))
        #expect(later.contains { $0.0 == a && $0.1.control.graft.first?.topicID == "t" })
        #expect(router.mesh["t"] == [a])
    }

    @Test func signedMessagesAreDeliveredOnceAndRelayedBadOnesAreNot() throws {
        let publisher = try peer(2), relayTarget = try peer(3).peerID
        var router = GossipsubRouter(localPeer: try peer(1).peerID)
        var source = GossipsubRouter(localPeer: publisher.peerID)
        for p in [publisher.peerID, relayTarget] {
            _ = router.addPeer(p)
            _ = router.handle(subscribe("t"), from: p, now: start)
        }
        _ = router.join("t", now: start)
        _ = source.addPeer(router.localPeer)
        _ = source.handle(subscribe("t"), from: router.localPeer, now: start)
        let published = try source.publish(topic: "t", data: [1, 2, 3], identity: publisher, seqno: 7, now: start)
        let rpc = try #require(sent(published).first?.1)
        #expect(rpc.publish.first?.hasKey == false)  // Ed25519: the key is in the peer ID
        let handled = router.handle(rpc, from: publisher.peerID, now: start)
        let actions = try #require(handled)
        #expect(actions.contains(.deliver(GossipMessage(from: publisher.peerID, seqno: [0, 0, 0, 0, 0, 0, 0, 7], topic: "t", data: [1, 2, 3]))))
        #expect(sent(actions).map(\.0) == [relayTarget])  // relayed to the other peer, not back to the source
        #expect(router.handle(rpc, from: relayTarget, now: start)?.isEmpty == true)  // seen: not again

        var forged = rpc
        forged.publish[0].seqno = Data([0, 0, 0, 0, 0, 0, 0, 8])  // signature no longer covers it
        #expect(router.handle(forged, from: publisher.peerID, now: start)?.isEmpty == true)
        var unsigned = rpc
        unsigned.publish[0].seqno = Data([0, 0, 0, 0, 0, 0, 0, 9])
        unsigned.publish[0].clearSignature()
        #expect(router.handle(unsigned, from: publisher.peerID, now: start)?.isEmpty == true)
        #expect(router.rejectedCount == 2)
    }

    @Test func validatorVerdictDecidesDeliveryAndRelay() throws {
        let publisher = try peer(2), other = try peer(3).peerID
        var router = GossipsubRouter(localPeer: try peer(1).peerID) { message in
            message.data == [0xff] ? .reject : message.data == [0xee] ? .ignore : .accept
        }
        for p in [publisher.peerID, other] {
            _ = router.addPeer(p)
            _ = router.handle(subscribe("t"), from: p, now: start)
        }
        _ = router.join("t", now: start)
        var source = GossipsubRouter(localPeer: publisher.peerID)
        _ = source.addPeer(router.localPeer)
        _ = source.handle(subscribe("t"), from: router.localPeer, now: start)
        for (seq, data, expectDelivered) in [(UInt64(1), [UInt8(0xff)], false), (2, [0xee], false), (3, [0x01], true)] {
            let published = try source.publish(topic: "t", data: data, identity: publisher, seqno: seq, now: start)
            let rpc = try #require(sent(published).first?.1)
            let actions = router.handle(rpc, from: publisher.peerID, now: start) ?? []
            #expect(actions.contains { if case .deliver = $0 { true } else { false } } == expectDelivered)
            #expect(sent(actions).isEmpty == !expectDelivered)
        }
        #expect(router.rejectedCount == 1)
    }

    @Test func ihaveIwantServeTheCacheUntilItExpires() throws {
        let publisher = try peer(2), asker = try peer(3).peerID
        var router = GossipsubRouter(localPeer: publisher.peerID)
        _ = router.addPeer(asker)
        // No peer is in "t", so nothing is sent; the message is cached all the same.
        #expect(try router.publish(topic: "t", data: [9], identity: publisher, seqno: 1, now: start).isEmpty)
        let id = Data(publisher.peerID.bytes + [0, 0, 0, 0, 0, 0, 0, 1])
        var iwant = P2p_Pubsub_RPC()
        var want = P2p_Pubsub_ControlIWant()
        want.messageIds = [id]
        iwant.control.iwant = [want]
        #expect(sent(router.handle(iwant, from: asker, now: start) ?? []).first?.1.publish.first?.data == Data([9]))
        for i in 1...5 { _ = router.heartbeat(now: start + .seconds(i)) }
        #expect(router.handle(iwant, from: asker, now: start + .seconds(6))?.isEmpty == true)
    }

    @Test func inboundRPCRateIsLimitedPerPeer() throws {
        var parameters = GossipsubParameters()
        parameters.maxRPCsPerPeerPerSecond = 3
        var router = GossipsubRouter(localPeer: try peer(1).peerID, parameters: parameters)
        let p = try peer(2).peerID
        let results = (0..<5).map { _ in router.handle(P2p_Pubsub_RPC(), from: p, now: start) }
        #expect(results.map { $0 != nil } == [true, true, true, false, false])
        #expect(router.handle(P2p_Pubsub_RPC(), from: p, now: start + .seconds(1)) != nil)
    }
}

/// gossipsub over real connections: Swift with Swift, and Swift with py-libp2p 0.8.1.
@Suite(.serialized) struct GossipsubNetworkTests {
    static let topic = "chain-alerter-test"

    func waitUntil(_ seconds: Double, _ what: String, _ condition: @escaping @Sendable () -> Bool) async throws {
        try await within(seconds, what) {
            while !condition() { try await Task.sleep(for: .milliseconds(50)) }
        }
    }

    @Test func swiftToSwift() async throws {
        let a = try makeHost(), b = try makeHost()
        defer { Task { await a.close(); await b.close() } }
        let ga = Gossipsub(host: a), gb = Gossipsub(host: b)
        defer { ga.stop(); gb.stop() }
        ga.start(); gb.start()
        ga.join(Self.topic); gb.join(Self.topic)
        let connection = try await a.dial(try await b.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0")))
        try await ga.addPeer(connection)
        try await waitUntil(10, "mesh on both sides") { ga.meshPeers(Self.topic) == [b.peerID] && gb.meshPeers(Self.topic) == [a.peerID] }
        try ga.publish(topic: Self.topic, data: [0xca, 0xfe])
        let received = try await within(10, "the message at b") { () -> GossipMessage? in
            for await message in gb.messages { return message }
            return nil
        }
        #expect(received?.from == a.peerID)
        #expect(received?.data == [0xca, 0xfe])
    }

    /// Swift → py (StrictSign checked by py); the py → Swift → py line is a known issue (see below).
    @Test func withPyLibp2p() async throws {
        let py1 = try PyPeer(["gossip", String(repeating: "44", count: 32), Self.topic])
        defer { py1.stop() }
        let py2 = try PyPeer(["gossip", String(repeating: "55", count: 32), Self.topic])
        defer { py2.stop() }
        let a1 = try await py1.listenAddress(), a2 = try await py2.listenAddress()
        let host = try makeHost()
        defer { Task { await host.close() } }
        let gossip = Gossipsub(host: host)
        defer { gossip.stop() }
        gossip.start()
        gossip.join(Self.topic)
        let c1 = try await within(20, "dial py1") { try await host.dial(a1) }
        let c2 = try await within(20, "dial py2") { try await host.dial(a2) }
        try await gossip.addPeer(c1)
        try await gossip.addPeer(c2)
        let p1 = try #require(a1.peerID), p2 = try #require(a2.peerID)
        try await waitUntil(20, "both py peers in the Swift mesh") { Set(gossip.meshPeers(Self.topic)) == [p1, p2] }

        // Swift → py (both receive, with Swift as the signer).
        try gossip.publish(topic: Self.topic, data: [0x01, 0x02])
        for py in [py1, py2] {
            let line = try await py.line(within: 20, "the Swift message") { $0.contains("\"data\": \"0102\"") }
            #expect(try jsonObject(line)["from"] as? String == host.peerID.description)
        }

        // py1 → Swift → py2 (py1 and py2 are connected only through Swift). Intermittent: in some runs py-libp2p
        // shows Swift in its mesh and reports the publish, but no RPC from py reaches Swift after its GRAFT.
        await withKnownIssue("py-libp2p's published messages reach the Swift peer only in some runs", isIntermittent: true) {
            py1.send("publish a1b2c3")
            _ = try await py1.line(within: 10, "py1's publish confirmation") { $0.contains("\"published\"") }
            let atSwift = try await within(8, "py1's message at Swift") { () -> GossipMessage? in
                for await message in gossip.messages where message.data == [0xa1, 0xb2, 0xc3] { return message }
                return nil
            }
            #expect(atSwift?.from == p1)
            let relayed = try await py2.line(within: 8, "py1's message relayed by Swift") { $0.contains("\"data\": \"a1b2c3\"") }
            #expect(try jsonObject(relayed)["from"] as? String == p1.description)
        }
        #expect(gossip.rejectedCount == 0)
    }

    /// A raw peer sends the Swift router a forged message and a good one; the py peer behind Swift gets only
    /// the good one, and Swift delivers only the good one.
    @Test func forgedMessageIsRejectedAndNotRelayedToPy() async throws {
        let py = try PyPeer(["gossip", String(repeating: "88", count: 32), Self.topic])
        defer { py.stop() }
        let pyAddress = try await py.listenAddress()
        let host = try makeHost(), injector = try makeHost()
        defer { Task { await host.close(); await injector.close() } }
        let gossip = Gossipsub(host: host)
        defer { gossip.stop() }
        gossip.start()
        gossip.join(Self.topic)
        try await gossip.addPeer(try await within(20, "dial py") { try await host.dial(pyAddress) })
        let pyID = try #require(pyAddress.peerID)
        try await waitUntil(20, "py in the Swift mesh") { gossip.meshPeers(Self.topic).contains(pyID) }

        let toSwift = try await injector.dial(try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0")))
        let stream = try await toSwift.openStream(Gossipsub.protocols)
        var hello = P2p_Pubsub_RPC()
        hello.subscriptions = [GossipsubRouter.subOpts(Self.topic, true)]
        try await stream.writeMessage(try hello.serializedBytes())
        var signer = GossipsubRouter(localPeer: injector.peerID)
        _ = signer.addPeer(host.peerID)
        _ = signer.handle(hello, from: host.peerID, now: .now)
        let forgedActions = try signer.publish(topic: Self.topic, data: [0xba, 0xd0], identity: injector.identity, seqno: 1, now: .now)
        guard case .send(_, var forged)? = forgedActions.first else { throw TestFailure("no RPC to forge") }
        forged.publish[0].data = Data([0xba, 0xd1])  // changed after signing
        try await stream.writeMessage(try forged.serializedBytes())
        let goodActions = try signer.publish(topic: Self.topic, data: [0x90, 0x0d], identity: injector.identity, seqno: 2, now: .now)
        guard case .send(_, let good)? = goodActions.first else { throw TestFailure("no RPC to send") }
        try await stream.writeMessage(try good.serializedBytes())

        let relayed = try await py.line(within: 20, "the good message relayed to py") { $0.contains("\"data\": \"900d\"") }
        #expect(try jsonObject(relayed)["from"] as? String == injector.peerID.description)
        let delivered = try await within(10, "the good message at Swift") { () -> GossipMessage? in
            for await message in gossip.messages { return message }
            return nil
        }
        #expect(delivered?.data == [0x90, 0x0d])  // the forged one, sent first, was not delivered
        #expect(gossip.rejectedCount == 1)
        #expect(!py.output.contains { $0.contains("bad1") })
    }
}

