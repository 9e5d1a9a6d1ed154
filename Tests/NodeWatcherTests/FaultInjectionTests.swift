import Foundation
import Testing
@testable import node_watcher
@testable import devnode
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// Each injected fault gives a typed error and a counter, and the watcher keeps following the chain.
@Suite(.serialized)
struct FaultInjectionTests {
    static let cases: [(kind: String, reason: String)] = [
        ("malformed_json", "error.malformed_json"),
        ("unknown_notification", "error.unknown_notification"),
        ("truncated_scale", "error.invalid_header"),
        ("oversized_frame", "error.oversized_frame"),
        ("drop_connection", "reconnect"),
        ("rpc_error", "error.rpc_error"),
    ]

    @Test("fault injection", arguments: cases.map(\.kind))
    func fault(_ kind: String) async throws {
        let counter = Self.cases.first { $0.kind == kind }!.reason
        let (devnode, url, _) = try await startDevnode(Scenario(name: "t", history: 5, blockIntervalMilliseconds: 40))
        let fork = try FakeForkWorker()
        var limits = ConnectionLimits()
        limits.maxMessageBytes = 1 << 20
        let watcher = try RunningWatcher(url: url, fork: fork, limits: limits)
        let production = Task { await devnode.chain.run() }
        defer { production.cancel() }
        #expect(await eventually(timeout: .seconds(15)) { watcher.watcher.isConnected && fork.heights(.newHeads).count >= 3 })
        devnode.servers[0].inject(Scenario.Fault(at: 0, kind: kind, node: nil, size: 3 << 19))
        if kind == "rpc_error" {
            // The next request the node answers fails with a JSON-RPC error: a fetch reports it.
            let hash = devnode.chain.canonicalHash(2)!
            let outcome = try await fork.fetch(.header, hash: hash)
            guard case .failed(let message) = outcome else { Issue.record("expected failure, got \(outcome)"); return }
            #expect(message.contains("injected fault"))
        }
        #expect(await eventually(timeout: .seconds(15)) { watcher.metrics.count(counter) >= 1 }, "\(kind) → \(counter)")
        // Still alive and following.
        let before = devnode.chain.best.number
        #expect(await eventually(timeout: .seconds(15)) { (fork.heights(.newHeads).max() ?? 0) >= before + 3 })
        if case .found = try await fork.fetch(.header, hash: devnode.chain.canonicalHash(3)!) {} else { Issue.record("fetch after \(kind)") }
        await watcher.stop()
        await devnode.stop()
        await fork.close()
    }

    @Test("a request the node never answers times out with a typed error; the watcher goes on")
    func timeout() async throws {
        var limits = ConnectionLimits()
        limits.requestTimeout = .milliseconds(300)
        let (devnode, url, _) = try await startDevnode(Scenario(name: "t", history: 5, blockIntervalMilliseconds: 50))
        let fork = try FakeForkWorker()
        let watcher = try RunningWatcher(url: url, fork: fork, limits: limits)
        let production = Task { await devnode.chain.run() }
        defer { production.cancel() }
        #expect(await eventually(timeout: .seconds(15)) { watcher.watcher.isConnected && !fork.statusesOnDealer.isEmpty })
        devnode.servers[0].inject(Scenario.Fault(at: 0, kind: "ignore_request", node: nil))
        let outcome = try await fork.fetch(.header, hash: devnode.chain.canonicalHash(1)!)
        guard case .failed(let message) = outcome else { Issue.record("expected a timeout, got \(outcome)"); return }
        #expect(message.contains("no answer within"))
        #expect(watcher.metrics.errors(.timeout) == 1)
        if case .found = try await fork.fetch(.header, hash: devnode.chain.canonicalHash(1)!) {} else { Issue.record("fetch after timeout") }
        await watcher.stop()
        await devnode.stop()
        await fork.close()
    }

    @Test("backoff doubles from 10 ms to 10 s with jitter, and resets")
    func backoff() {
        var backoff = Backoff(initial: .milliseconds(10), maximum: .seconds(10), jitter: 0.5)
        var delays: [Duration] = []
        for _ in 0 ..< 14 { delays.append(backoff.next(random: 0)) }
        #expect(delays[0] == .milliseconds(10))
        #expect(delays[1] == .milliseconds(20))
        #expect(delays.last == .seconds(10))
        #expect(backoff.next(random: 1) == .seconds(5))
        backoff.reset()
        #expect(backoff.next(random: 0.5) == .microseconds(7500))
    }
}
