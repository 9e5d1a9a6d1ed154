import Testing
@testable import Wire
@testable import SubstratePrimitives
import TestKit

@Suite struct MessageCatalogueTests {
    static let hash = [UInt8](repeating: 0xAB, count: 32)
    static let parent = [UInt8](repeating: 0x01, count: 32)
    static let block = FetchedBlock(blockHash: hash, header: [1, 2, 3], extrinsics: [[4, 5], [], [6]], events: [7, 8, 9],
                                    specVersion: 1_004_000, metadata: nil)

    /// Round-trips a message through the full envelope path and returns the decoded copy.
    private func roundTrip<M: BusMessage & Equatable>(_ message: M) throws -> M {
        var writer = EnvelopeWriter(sender: "test")
        let frame = try writer.seal(message)
        let envelope = try Envelope.decode(frame)
        #expect(envelope.header.messageType == M.messageType)
        #expect(envelope.header.encoding == M.messageType.encoding)
        return try envelope.decode(M.self)
    }

    @Test func workerHello() throws {
        let message = WorkerHello(worker: "node-watcher-0", role: .nodeWatcher, pid: 1234)
        #expect(try roundTrip(message) == message)
    }

    @Test func workerHeartbeat() throws {
        let message = WorkerHeartbeat(worker: "notifier", pid: 99, sequence: 17, status: ["best_height": "100"])
        #expect(try roundTrip(message) == message)
    }

    @Test func supervisorCommand() throws {
        let message = SupervisorCommand.shutdown(reason: "stop requested")
        #expect(try roundTrip(message) == message)
    }

    @Test func ctlRequestAndResponse() throws {
        let request = CtlRequest(command: "restart", target: "node-watcher-1")
        #expect(try roundTrip(request) == request)
        let response = CtlResponse(ok: true, message: "1 worker", workers: [
            WorkerStatus(name: "notifier", role: .notifier, pid: 5, state: "running", uptimeSeconds: 1.5, restarts: 0, lastExit: nil),
        ])
        #expect(try roundTrip(response) == response)
    }

    @Test(arguments: SubscriptionKind.allCases)
    func blockSeen(kind: SubscriptionKind) throws {
        let message = BlockSeen(node: "rpc-a", subscription: kind, header: [0, 1, 2, 255], receivedAtMilliseconds: 1_700_000_000_123)
        #expect(try roundTrip(message) == message)
    }

    @Test(arguments: FetchKind.allCases)
    func fetchRequest(kind: FetchKind) throws {
        let message = FetchRequest(requestID: .max, kind: kind, blockHash: Self.hash, count: kind == .ancestors ? 64 : 1)
        #expect(try roundTrip(message) == message)
    }

    @Test func fetchCanonicalHashByHeightAndBest() throws {
        let byHeight = FetchRequest(requestID: 7, kind: .canonicalHash, blockHash: [], height: 4_259_127)
        #expect(try roundTrip(byHeight) == byHeight)
        #expect(try roundTrip(byHeight).height == 4_259_127)
        let best = FetchRequest(requestID: 8, kind: .canonicalHash, blockHash: [])
        #expect(try roundTrip(best).height == nil)
    }

    @Test func cursorReport() throws {
        let fresh = CursorReport(instanceID: 42, checkedHeight: nil, checkedHash: nil, observedAtMilliseconds: 1)
        #expect(try roundTrip(fresh) == fresh)
        let checked = CursorReport(instanceID: .max, checkedHeight: 1005, checkedHash: Self.hash, observedAtMilliseconds: 2)
        #expect(try roundTrip(checked) == checked)
    }

    @Test func chainIdentity() throws {
        let full = ChainIdentity(node: "ws://127.0.0.1:9944", genesisHash: Self.hash, chainName: "Autonomys Mainnet", ss58Format: 6094,
                                 tokenDecimals: 18, tokenSymbol: "AI3", specVersion: 7, metadata: [0x6d, 0x65, 0x74, 0x61, 0x0e])
        #expect(try roundTrip(full) == full)
        let bare = ChainIdentity(node: "n", genesisHash: Self.parent, chainName: "", ss58Format: nil, tokenDecimals: nil,
                                 tokenSymbol: nil, specVersion: 0, metadata: nil)
        #expect(try roundTrip(bare) == bare)
    }

    @Test func blockDataEveryOutcome() throws {
        let outcomes: [BlockData.Outcome] = [
            .found([Self.block, FetchedBlock(blockHash: Self.parent)]),
            .found([FetchedBlock(blockHash: Self.hash, metadata: [0x6d, 0x65, 0x74, 0x61])]),
            .found([]),
            .notFound,
            .failed(message: "connection reset"),
        ]
        for outcome in outcomes {
            let message = BlockData(requestID: 9, outcome: outcome)
            #expect(try roundTrip(message) == message)
        }
    }

    @Test(arguments: CanonicalMode.allCases)
    func canonicalBlock(mode: CanonicalMode) throws {
        let message = CanonicalBlock(mode: mode, height: 5_000_000, parentHash: Self.parent, block: Self.block)
        #expect(try roundTrip(message) == message)
    }

    @Test func forkEvents() throws {
        let reorg = ForkEvent.reorg(oldBest: BlockRef(hash: Self.hash, height: 10), newBest: BlockRef(hash: Self.parent, height: 11),
                                    commonAncestor: BlockRef(hash: [9], height: 8), backwardsDepth: 2)
        #expect(try roundTrip(reorg) == reorg)
        let side = ForkEvent.sideForkExtended(tip: BlockRef(hash: Self.hash, height: 12), forkPoint: BlockRef(hash: Self.parent, height: 9), depth: 3)
        #expect(try roundTrip(side) == side)
    }

    @Test func alertDoorbell() throws {
        let message = AlertDoorbell(highestRowID: Int64.max, newRows: 12)
        #expect(try roundTrip(message) == message)
    }

    @Test func nodeStatus() throws {
        let up = NodeStatus(node: "rpc-a", connected: true, bestHeight: 123, rpcLatencyMilliseconds: 45, observedAtMilliseconds: 1)
        #expect(try roundTrip(up) == up)
        let down = NodeStatus(node: "rpc-b", connected: false, bestHeight: nil, rpcLatencyMilliseconds: nil, detail: "ECONNREFUSED",
                              observedAtMilliseconds: 2)
        #expect(try roundTrip(down) == down)
    }

    @Test func nodeVerdict() throws {
        let isolated = NodeVerdict(node: "ws://127.0.0.1:9945", isolated: true, reason: .lag, connected: true, primary: false, lagBlocks: 15,
                                   rpcLatencyMilliseconds: 7, bestHeight: 85, bestNodeHeight: 100, detail: "15 blocks behind",
                                   observedAtMilliseconds: 1_700_000_000_000)
        #expect(try roundTrip(isolated) == isolated)
        #expect(NodeVerdict.messageType.rawValue == 109)
        let bare = NodeVerdict(node: "n", isolated: false, reason: .none, connected: false, primary: true, lagBlocks: nil,
                               rpcLatencyMilliseconds: nil, bestHeight: nil, bestNodeHeight: nil, observedAtMilliseconds: 0)
        #expect(try roundTrip(bare) == bare)
        for reason in IsolationReason.allCases {
            var v = isolated
            v.reason = reason
            #expect(try roundTrip(v) == v)
        }
        // An unknown reason byte is rejected, not guessed.
        var payload = try isolated.encodePayload()
        let reasonOffset = 1 + isolated.node.utf8.count + 1
        payload[reasonOffset] = 9
        #expect(throws: EnvelopeError.self) { _ = try NodeVerdict.decodePayload(payload) }
        for length in 0 ..< payload.count - 1 {
            #expect(throws: EnvelopeError.self) { _ = try NodeVerdict.decodePayload(Array(try isolated.encodePayload().prefix(length))) }
        }
    }

    @Test func supervisorNodeCommandsRoundTripAndOldShutdownStillDecodes() throws {
        for command in [SupervisorCommand.isolateNode(node: "ws://a:1"), .restoreNode(node: "ws://a:1"), .shutdown(reason: "x")] {
            #expect(try roundTrip(command) == command)
        }
        let old = try SupervisorCommand.decodePayload(Array(#"{"shutdown":{"reason":"restart requested"}}"#.utf8))
        #expect(old == .shutdown(reason: "restart requested"))
    }

    @Test func everyTypeHasOneEncodingAndUniqueRawValue() {
        #expect(Set(MessageType.allCases.map(\.rawValue)).count == MessageType.allCases.count)
        let json: Set<MessageType> = [.workerHello, .workerHeartbeat, .supervisorCommand, .ctlRequest, .ctlResponse]
        for type in MessageType.allCases {
            #expect(type.encoding == (json.contains(type) ? .json : .scale), "\(type)")
        }
    }

    @Test func wrongTypeIsRejected() throws {
        var writer = EnvelopeWriter(sender: "x")
        let envelope = try Envelope.decode(writer.seal(AlertDoorbell(highestRowID: 1, newRows: 1)))
        #expect(throws: EnvelopeError.unexpectedMessageType(expected: [.blockSeen], got: .alertDoorbell)) {
            _ = try envelope.decode(BlockSeen.self)
        }
    }

    @Test func truncatedScalePayloadsFailCleanly() throws {
        let message = CanonicalBlock(mode: .current, height: 1, parentHash: Self.parent, block: Self.block)
        let payload = try message.encodePayload()
        for length in 0 ..< payload.count {
            #expect(throws: EnvelopeError.self) { _ = try CanonicalBlock.decodePayload(Array(payload.prefix(length))) }
        }
    }
}
