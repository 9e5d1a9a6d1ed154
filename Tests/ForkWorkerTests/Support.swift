import Foundation
import Logging
import Synchronization
import Testing
@testable import fork_worker
@testable import ForkChoice
@testable import alert_worker
@testable import AlertRules
@testable import devnode
@testable import node_watcher
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit


/// A simulated chain as a node sees it: real SCALE headers (hash = blake2b-256), forks, a best head.
final class SimChain: @unchecked Sendable {
    struct Block { var link: BlockLink; var header: [UInt8] }
    private let lock = Mutex<State>(State())
    struct State {
        var blocks: [BlockHash: Block] = [:]
        var head: BlockLink?
        var everBest: Set<BlockHash> = []
        var salt: UInt64 = 0
    }

    init(length: Int) {
        var parent: BlockLink? = nil
        for _ in 0 ..< length { parent = add(parent: parent, makeBest: true) }
    }

    /// Adds a child of `parent` (genesis when nil); when `makeBest`, it becomes the head.
    @discardableResult
    func add(parent: BlockLink?, makeBest: Bool) -> BlockLink {
        lock.withLock { s in
            s.salt += 1
            var root = [UInt8](repeating: 0, count: 32)
            withUnsafeBytes(of: s.salt.littleEndian) { for (i, b) in $0.enumerated() { root[i] = b } }
            let header = BlockHeader(parentHash: parent?.hash.bytes ?? [UInt8](repeating: 0, count: 32),
                                     number: parent.map { $0.height + 1 } ?? 0, stateRoot: root,
                                     extrinsicsRoot: [UInt8](repeating: 7, count: 32), digest: [])
            let bytes = header.encoded
            let link = BlockLink(header: bytes)!
            s.blocks[link.hash] = Block(link: link, header: bytes)
            if makeBest { s.head = link; markBest(&s, link) }
            return link
        }
    }

    private func markBest(_ s: inout State, _ head: BlockLink) {
        var cur: BlockLink? = head
        while let b = cur, s.everBest.insert(b.hash).inserted { cur = s.blocks[b.parent]?.link }
    }

    func setHead(_ link: BlockLink) { lock.withLock { s in s.head = link; markBest(&s, link) } }
    var head: BlockLink { lock.withLock { $0.head! } }
    var everBest: Set<BlockHash> { lock.withLock { $0.everBest } }
    func header(_ hash: BlockHash) -> [UInt8]? { lock.withLock { $0.blocks[hash]?.header } }
    func link(_ hash: BlockHash) -> BlockLink? { lock.withLock { $0.blocks[hash]?.link } }

    /// The best chain, genesis first.
    func bestChain() -> [BlockLink] {
        lock.withLock { s in
            var out: [BlockLink] = []
            var cur = s.head
            while let b = cur { out.append(b); cur = s.blocks[b.parent]?.link }
            return out.reversed()
        }
    }

    func answer(_ request: FetchRequest) -> BlockData {
        guard let hash = BlockHash(bytes: request.blockHash) else { return BlockData(requestID: request.requestID, outcome: .notFound) }
        switch request.kind {
        case .ancestors:
            var out: [FetchedBlock] = []
            var cur = link(hash)
            while let b = cur, out.count < Int(request.count) {
                out.append(FetchedBlock(blockHash: b.hash.bytes, header: header(b.hash)))
                cur = link(b.parent)
            }
            return BlockData(requestID: request.requestID, outcome: out.isEmpty ? .notFound : .found(out))
        case .canonicalHash:
            let chain = bestChain()
            let target: BlockLink? = request.height.map { Int($0) < chain.count ? chain[Int($0)] : nil } ?? chain.last
            guard let target else { return BlockData(requestID: request.requestID, outcome: .notFound) }
            return BlockData(requestID: request.requestID,
                             outcome: .found([FetchedBlock(blockHash: target.hash.bytes, header: header(target.hash))]))
        case .header, .body, .events, .runtimeVersion, .metadata:
            guard let header = header(hash) else { return BlockData(requestID: request.requestID, outcome: .notFound) }
            var block = FetchedBlock(blockHash: hash.bytes)
            switch request.kind {
            case .header: block.header = header
            case .body: block.extrinsics = [[0x04, 0x00]]
            case .events: block.events = [0x00]
            case .runtimeVersion: block.specVersion = 100
            default: block.specVersion = 100; block.metadata = Array("meta".utf8) + [14]
            }
            return BlockData(requestID: request.requestID, outcome: .found([block]))
        }
    }
}

/// Plays a node-watcher at the protocol level: a DEALER with the watcher's routing id on fetch.sock that
/// says hello with NodeStatus and answers FetchRequests from a `SimChain`, and a PUSH on blocks.sock for
/// BlockSeen and NodeStatus.
final class WatcherDouble: @unchecked Sendable {
    let loop: BusLoop
    let url: String
    let chain: SimChain
    private let writer: Mutex<EnvelopeWriter>
    private var tasks: [Task<Void, Never>] = []
    let requests = Atomic<Int>(0)
    let connected = Atomic<Bool>(true)

    init(index: Int, url: String, stateDirectory: String, chain: SimChain) throws {
        self.url = url
        self.chain = chain
        let name = "node-watcher-\(index)"
        writer = Mutex(EnvelopeWriter(sender: name))
        var options = SocketOptions()
        options.routingID = Array(name.utf8)
        loop = try BusLoop(name: name, sockets: [
            SocketSpec(name: "fetch", kind: .dealer, attachments: [.connect("ipc://\(stateDirectory)/fetch.sock")], options: options),
            SocketSpec(name: "blocks-out", kind: .push, attachments: [.connect("ipc://\(stateDirectory)/blocks.sock")],
                       outboundCapacity: 100_000),
        ], logger: Logger(label: "watcher-double"))
        let inbox = loop.inbox(loop.sockets[0])
        tasks.append(Task { [weak self] in
            var reader = EnvelopeReader(socket: "fetch")
            for await frame in inbox {
                guard let self, let request = reader.open(frame.payload, as: FetchRequest.self) else { continue }
                self.requests.add(1, ordering: .relaxed)
                if !self.connected.load(ordering: .relaxed) {
                    self.reply(BlockData(requestID: request.requestID, outcome: .failed(message: "disconnected")))
                    continue
                }
                self.reply(chain.answer(request))
            }
        })
        tasks.append(Task { [weak self] in
            while !Task.isCancelled {
                self?.status()
                try? await Task.sleep(for: .milliseconds(300))
            }
        })
    }

    func status() {
        let status = NodeStatus(node: url, connected: connected.load(ordering: .relaxed), bestHeight: chain.head.height,
                                rpcLatencyMilliseconds: 1, observedAtMilliseconds: 0)
        if let bytes = try? writer.withLock({ try $0.seal(status) }) {
            try? loop.send(bytes, on: loop.sockets[0])
            try? loop.send(bytes, on: loop.sockets[1])
        }
    }

    private func reply(_ data: BlockData) {
        if let bytes = try? writer.withLock({ try $0.seal(data) }) { try? loop.send(bytes, on: loop.sockets[0]) }
    }

    /// Reports `link` as seen on `subscription`.
    func seen(_ link: BlockLink, _ subscription: SubscriptionKind) {
        guard let header = chain.header(link.hash) else { return }
        let message = BlockSeen(node: url, subscription: subscription, header: header, receivedAtMilliseconds: 0)
        if let bytes = try? writer.withLock({ try $0.seal(message) }) { try? loop.send(bytes, on: loop.sockets[1]) }
    }

    func close() {
        tasks.forEach { $0.cancel() }
        loop.close()
    }
}

/// Plays the alert-worker at the protocol level: PULL bound at alert-worker.sock collecting what the
/// fork-worker sends, and a PUSH on blocks.sock for CursorReports.
final class AlertWorkerDouble: @unchecked Sendable {
    let loop: BusLoop
    /// What arrived, shared with the receiving task.
    final class Received: Sendable {
        let state = Mutex<(blocks: [CanonicalBlock], events: [ForkEvent])>(([], []))
    }
    private let received = Received()
    private var task: Task<Void, Never>?
    private let writer = Mutex(EnvelopeWriter(sender: "alert-worker"))

    init(stateDirectory: String) throws {
        loop = try BusLoop(name: "alert-double", sockets: [
            SocketSpec(name: "in", kind: .pull, attachments: [.bind("ipc://\(stateDirectory)/alert-worker.sock")], inboxCapacity: 100_000),
            SocketSpec(name: "cursor", kind: .push, attachments: [.connect("ipc://\(stateDirectory)/blocks.sock")]),
        ], logger: Logger(label: "alert-double"))
        let inbox = loop.inbox(loop.sockets[0])
        task = Task { [received] in
            var reader = EnvelopeReader(socket: "in")
            for await frame in inbox {
                guard let envelope = reader.open(frame.payload) else { continue }
                if let block = try? envelope.decode(CanonicalBlock.self) { received.state.withLock { $0.blocks.append(block) } }
                if let event = try? envelope.decode(ForkEvent.self) { received.state.withLock { $0.events.append(event) } }
            }
        }
    }

    var blocks: [CanonicalBlock] { received.state.withLock { $0.blocks } }
    var events: [ForkEvent] { received.state.withLock { $0.events } }

    func report(instance: UInt64, cursor: BlockLink?) {
        let report = CursorReport(instanceID: instance, checkedHeight: cursor?.height, checkedHash: cursor?.hash.bytes,
                                  observedAtMilliseconds: 0)
        if let bytes = try? writer.withLock({ try $0.seal(report) }) { try? loop.send(bytes, on: loop.sockets[1]) }
    }

    func close() {
        task?.cancel()
        loop.close()
    }
}
