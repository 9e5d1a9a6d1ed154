import Foundation
import Testing
@testable import node_watcher
@testable import devnode
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// The watcher against the devnode over real sockets (WebSocket to the node, ZeroMQ to a fake fork-worker).
@Suite(.serialized)
struct WatcherDevnodeTests {
    @Test("every subscription arrives and every fetch kind works; metadata is fetched once per spec version")
    func subscriptionsAndFetches() async throws {
        let scenario = Scenario(name: "t", history: 20, blockIntervalMilliseconds: 60, endAt: 40,
                                actions: [.init(kind: "runtime_upgrade", at: 24), .init(kind: "large_transfer", at: 22)],
                                forks: [.init(at: 30, length: 2)])
        let (devnode, url, _) = try await startDevnode(scenario)
        let fork = try FakeForkWorker()
        let watcher = try RunningWatcher(url: url, fork: fork)
        let production = Task { await devnode.chain.run() }
        defer { production.cancel() }

        #expect(await eventually(timeout: .seconds(15)) { fork.heights(.newHeads).contains(36) && fork.heights(.finalizedHeads).count >= 5 })
        #expect(fork.heights(.allHeads).count > fork.heights(.newHeads).count - 2, "all-heads also carries the side fork")
        #expect(fork.blocksSeen.allSatisfy { $0.node == url && $0.receivedAtMilliseconds > 0 })
        // NodeStatus on the DEALER (routing id = worker name) and on the PUSH socket.
        #expect(fork.statusesOnDealer.contains { $0.routingID == Array("node-watcher-0".utf8) && $0.status.connected })
        #expect(await eventually(timeout: .seconds(15)) { fork.nodeStatuses.contains { $0.connected && ($0.bestHeight ?? 0) >= 30 } })

        let chain = devnode.chain
        let block22 = chain.block(chain.canonicalHash(22)!)!
        // header
        guard case .found(let headers) = try await fork.fetch(.header, hash: block22.hash) else { Issue.record("header"); return }
        #expect(try BlockHeader(scale: headers[0].header!).hash == block22.hash)
        // body + events decode with the metadata fetched for that block
        guard case .found(let bodies) = try await fork.fetch(.body, hash: block22.hash),
              case .found(let events) = try await fork.fetch(.events, hash: block22.hash),
              case .found(let metas) = try await fork.fetch(.metadata, hash: block22.hash) else { Issue.record("body/events/metadata"); return }
        #expect(metas[0].specVersion == 1)
        let metadata = try RuntimeMetadata(bytes: metas[0].metadata!)
        let decoded = try metadata.decodeBlock(header: bodies[0].header!, extrinsics: bodies[0].extrinsics!, events: events[0].events)
        #expect(decoded.timestamp == block22.timestamp)
        #expect(decoded.extrinsics.map { "\($0.call.pallet).\($0.call.name)" } == ["Timestamp.set", "Balances.transfer_keep_alive"])
        #expect(decoded.events?.contains { $0.pallet == "Balances" && $0.name == "Transfer" } == true)
        // runtime version before and after the upgrade; metadata per spec version
        let block30 = chain.canonicalHash(30)!
        guard case .found(let v30) = try await fork.fetch(.runtimeVersion, hash: block30),
              case .found(let m30) = try await fork.fetch(.metadata, hash: block30) else { Issue.record("v30"); return }
        #expect(v30[0].specVersion == 2)
        #expect(try RuntimeMetadata(bytes: m30[0].metadata!).specVersion == 2)
        _ = try await fork.fetch(.metadata, hash: chain.canonicalHash(31)!)
        _ = try await fork.fetch(.metadata, hash: chain.canonicalHash(5)!)
        #expect(watcher.metrics.count("metadata") == 2, "once for spec 1, once for spec 2")
        #expect(watcher.watcher.metadata.specVersions == [1, 2])
        // ancestors: the block itself, then its parents, newest first
        guard case .found(let run) = try await fork.fetch(.ancestors, hash: block22.hash, count: 5) else { Issue.record("ancestors"); return }
        #expect(run.map(\.blockHash) == (18 ... 22).reversed().map { chain.canonicalHash(UInt64($0))! })
        // canonical hash by height and best
        guard case .found(let at10) = try await fork.fetch(.canonicalHash, hash: [], height: 10),
              case .found(let best) = try await fork.fetch(.canonicalHash, hash: []) else { Issue.record("canonical"); return }
        #expect(at10[0].blockHash == chain.canonicalHash(10)!)
        #expect(try BlockHeader(scale: best[0].header!).number >= 36)
        // unknown block, height beyond the tip, bad hash
        let unknown = [UInt8](repeating: 0xee, count: 32)
        for kind in [FetchKind.header, .body, .events, .metadata, .runtimeVersion, .ancestors] {
            #expect(try await fork.fetch(kind, hash: unknown) == .notFound, "\(kind)")
        }
        #expect(try await fork.fetch(.canonicalHash, hash: [], height: 1_000_000) == .notFound)
        if case .failed = try await fork.fetch(.header, hash: [1, 2, 3]) {} else { Issue.record("a short hash must fail") }
        // pipelined: 200 requests at once
        let many = (1 ... 30).flatMap { height in [(FetchKind.body, chain.canonicalHash(UInt64(height))!), (.events, chain.canonicalHash(UInt64(height))!)] }
        let outcomes = try await fork.fetchAll(many)
        #expect(outcomes.allSatisfy { if case .found = $0 { true } else { false } })

        await watcher.stop()
        await devnode.stop()
        await fork.close()
    }

    @Test("killing and restarting the node mid-stream: the watcher reconnects and no block is missed")
    func reconnectWithoutGaps() async throws {
        let scenario = Scenario(name: "t", history: 5, blockIntervalMilliseconds: 40)
        let (devnode, url, port) = try await startDevnode(scenario)
        let fork = try FakeForkWorker()
        let watcher = try RunningWatcher(url: url, fork: fork)
        let production = Task { await devnode.chain.run() }
        defer { production.cancel() }
        #expect(await eventually(timeout: .seconds(15)) { fork.heights(.newHeads).contains(15) })
        await devnode.servers[0].stop()
        #expect(await eventually(timeout: .seconds(15)) { !watcher.watcher.isConnected })
        try await Task.sleep(for: .milliseconds(600))  // ~15 blocks produced while the node is away
        let resumedAt = devnode.chain.best.number
        _ = try await devnode.servers[0].start(port: port)
        #expect(await eventually(timeout: .seconds(15)) { fork.heights(.newHeads).contains(resumedAt + 5) })
        let heights = Set(fork.heights(.newHeads))
        // From the first head of the first connection (the chain may have moved past the history of 5 before
        // the watcher subscribed; the fork-worker's start-up context covers what came before).
        let first = try #require(heights.min())
        #expect(first < 15)
        let missing = (first ... resumedAt + 5).filter { !heights.contains($0) }
        #expect(missing.isEmpty, "missed \(missing)")
        #expect(watcher.metrics.count("reconnect") >= 1)
        #expect(watcher.metrics.count("header.gap_fill") > 0)
        #expect(fork.statusesOnDealer.contains { !$0.status.connected && $0.status.detail.contains("last height seen") })
        await watcher.stop()
        await devnode.stop()
        await fork.close()
    }

    @Test("several nodes on one chain: each has its own listener; a node's notification delay shows at its watcher")
    func severalNodes() async throws {
        let scenario = Scenario(name: "t", history: 5, blockIntervalMilliseconds: 100,
                                nodes: [.init(name: "fast"), .init(name: "slow", delayMilliseconds: 300)])
        let devnode = Devnode(scenario: scenario)
        let ports = try await devnode.start(firstPort: 0)
        #expect(ports.count == 2 && ports[0] != ports[1])
        let fast = try FakeForkWorker(), slow = try FakeForkWorker()
        let fastWatcher = try RunningWatcher(url: "ws://127.0.0.1:\(ports[0])", fork: fast)
        let slowWatcher = try RunningWatcher(url: "ws://127.0.0.1:\(ports[1])", fork: slow)
        let production = Task { await devnode.chain.run() }
        defer { production.cancel() }
        // The head that follows a subscription comes at once (not delayed), so measure only heights produced after
        // both watchers had subscribed: from two past the higher of their first heads (a loaded machine may connect late).
        #expect(await eventually(timeout: .seconds(15)) { !fast.heights(.newHeads).isEmpty && !slow.heights(.newHeads).isEmpty })
        let base = max(fast.heights(.newHeads).first ?? 0, slow.heights(.newHeads).first ?? 0) + 2
        #expect(await eventually(timeout: .seconds(15)) { fast.heights(.newHeads).contains(base + 3) && slow.heights(.newHeads).contains(base + 3) })
        func receivedAt(_ fork: FakeForkWorker, _ height: UInt64) -> UInt64? {
            fork.blocksSeen.first { $0.subscription == .newHeads && (try? BlockHeader(scale: $0.header).number) == height }?.receivedAtMilliseconds
        }
        let lags = (base ... base + 2).compactMap { h -> Int64? in
            guard let a = receivedAt(fast, UInt64(h)), let b = receivedAt(slow, UInt64(h)) else { return nil }
            return Int64(b) - Int64(a)
        }
        #expect(lags.count == 3 && lags.allSatisfy { $0 >= 200 }, "lags \(lags)")
        await fastWatcher.stop()
        await slowWatcher.stop()
        await devnode.stop()
        await fast.close()
        await slow.close()
    }

    @Test("wss:// with a self-signed certificate made by openssl")
    func tls() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                             "-keyout", "\(directory)/key.pem", "-out", "\(directory)/cert.pem"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl failed")
        let context = try NIOSSLContextBox(context: .init(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile("\(directory)/cert.pem").map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: "\(directory)/key.pem", format: .pem)))))
        let (devnode, url, _) = try await startDevnode(Scenario(name: "t", history: 3, blockIntervalMilliseconds: 50), tls: context)
        #expect(url.hasPrefix("wss://"))
        let fork = try FakeForkWorker()
        let production = Task { await devnode.chain.run() }
        defer { production.cancel() }
        // Without the certificate in the trust roots the handshake is refused.
        let untrusted = try RunningWatcher(url: url, fork: fork, name: "untrusted")
        #expect(await eventually(timeout: .seconds(5)) { untrusted.metrics.errors(.connectFailed) >= 1 })
        #expect(!untrusted.watcher.isConnected)
        await untrusted.stop()
        let watcher = try RunningWatcher(url: url, fork: fork, trustRootsFile: "\(directory)/cert.pem")
        #expect(await eventually(timeout: .seconds(15)) { fork.heights(.newHeads).count >= 5 && fork.heights(.finalizedHeads).count >= 1 })
        #expect(watcher.watcher.chainName == "Autonomys Devnode")
        await watcher.stop()
        await devnode.stop()
        await fork.close()
    }
}

import NIOSSL
