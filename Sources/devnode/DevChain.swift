import Foundation
import Synchronization
import SubstrateRuntime
import SubstratePrimitives
import WorkerRuntime

/// One block of the simulated chain, with everything the RPC methods serve.
struct DevBlock: Sendable {
    let header: BlockHeader
    let hash: [UInt8]
    let extrinsics: [[UInt8]]
    /// The raw `System.Events` storage value at this block.
    let events: [UInt8]
    let specVersion: UInt32
    /// Unix ms in the `Timestamp.set` inherent.
    let timestamp: UInt64

    var number: UInt64 { header.number }
    var parentHash: [UInt8] { header.parentHash }
}

/// What the chain tells the server to announce.
enum ChainEvent: Sendable {
    /// A block was imported; `best` when it is the new best block; `only`: announced by that node alone.
    case imported(DevBlock, best: Bool, only: String? = nil)
    case finalized(DevBlock)
    case runtimeUpgraded(specVersion: UInt32)
    case fault(Scenario.Fault)
    /// The scenario is over: production stopped.
    case ended
}

/// The simulated chain: produces blocks by the scenario and answers lookups. Thread-safe.
///
/// Block contents: extrinsic 0 is the `Timestamp.set` inherent; scripted extrinsics follow. Chain time
/// advances 6 s per block (simulated, whatever the production interval), the slot is chain time in
/// seconds, carried in a `PreRuntime` `SUB_` digest whose payload is byte 0 = 0 (PreDigest V0) followed
/// by the slot as u64 little-endian (9 bytes: the slot decoder reads only bytes 0...8). The header hash is
/// blake2b-256 of the SCALE header; the extrinsics root is blake2b-256 of the concatenated extrinsics
/// (not a trie root); the state root is blake2b-256 of the block number and a branch salt.
final class DevChain: Sendable {
    static let finalityLag: UInt64 = 5
    static let chainTimeStep: UInt64 = 6000

    private struct State {
        var blocks: [[UInt8]: DevBlock] = [:]
        var canonical: [[UInt8]] = []
        var finalized: UInt64 = 0
        var specVersion: UInt32
        var nonce: UInt32 = 0
        var sideTip: [UInt8]?
        var sideRemaining = 0
        var sideNode: String?
        /// Forks already made (a backwards reorg brings the chain below `at` again; each fork happens once).
        var forksMade: Set<Int> = []
        var salt: UInt64 = 0
        var ended = false
    }

    let scenario: Scenario
    let genesisTime: UInt64
    private let state: Mutex<State>
    private let metadataCache = Mutex<[UInt32: [UInt8]]>([:])
    private let listeners = Mutex<[@Sendable (ChainEvent) -> Void]>([])

    init(scenario: Scenario, now: UInt64 = UInt64(Date().timeIntervalSince1970 * 1000)) {
        self.scenario = scenario
        genesisTime = now - UInt64(scenario.history + 1) * Self.chainTimeStep
        state = Mutex(State(specVersion: scenario.specVersion ?? 1))
        let genesis = Self.build(parent: nil, number: 0, timestamp: genesisTime, specVersion: scenario.specVersion ?? 1, salt: 0,
                                 extra: [], events: [])
        state.withLock { state in
            state.blocks[genesis.hash] = genesis
            state.canonical = [genesis.hash]
        }
        for _ in 0 ..< scenario.history { _ = produceNext(announce: false) }
        state.withLock { state in
            state.finalized = UInt64(state.canonical.count - 1) > Self.finalityLag ? UInt64(state.canonical.count - 1) - Self.finalityLag : 0
        }
    }

    func addListener(_ listener: @escaping @Sendable (ChainEvent) -> Void) {
        listeners.withLock { $0.append(listener) }
    }

    private func emit(_ event: ChainEvent) {
        for listener in listeners.withLock({ $0 }) { listener(event) }
    }

    // MARK: lookups

    var genesisHash: [UInt8] { state.withLock { $0.canonical[0] } }
    var best: DevBlock { state.withLock { $0.blocks[$0.canonical.last!]! } }
    var finalized: DevBlock { state.withLock { $0.blocks[$0.canonical[Int($0.finalized)]]! } }
    var currentSpecVersion: UInt32 { state.withLock { $0.specVersion } }
    var isEnded: Bool { state.withLock { $0.ended } }

    func block(_ hash: [UInt8]) -> DevBlock? { state.withLock { $0.blocks[hash] } }

    func canonicalHash(_ height: UInt64) -> [UInt8]? {
        state.withLock { height < UInt64($0.canonical.count) ? $0.canonical[Int(height)] : nil }
    }

    func metadata(specVersion: UInt32) -> [UInt8] {
        if let cached = metadataCache.withLock({ $0[specVersion] }) { return cached }
        let bytes = DevRuntime.metadata(specVersion: specVersion)
        metadataCache.withLock { $0[specVersion] = bytes }
        return bytes
    }

    // MARK: production

    /// Produces blocks by the scenario until its end (or forever), then emits `.ended`.
    func run() async {
        var stalls: [UInt64: Int] = [:]
        for stall in scenario.stalls ?? [] { stalls[stall.at] = stall.durationMilliseconds }
        if let delay = scenario.startDelayMilliseconds, delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
        while !Task.isCancelled {
            let height = state.withLock { UInt64($0.canonical.count - 1) }
            if let end = scenario.endAt, height >= end { break }
            try? await Task.sleep(for: .milliseconds(scenario.blockIntervalMilliseconds))
            if Task.isCancelled { return }
            let produced = produceNext(announce: true)
            if let pause = stalls[produced] {
                try? await Task.sleep(for: .milliseconds(pause))
            }
        }
        if Task.isCancelled { return }
        state.withLock { $0.ended = true }
        emit(.ended)
    }

    /// Produces the next canonical block (and whatever the scenario attaches to its height); returns its height.
    @discardableResult
    func produceNext(announce: Bool) -> UInt64 {
        var events: [ChainEvent] = []
        let height: UInt64 = state.withLock { state in
            let parent = state.blocks[state.canonical.last!]!
            let number = parent.number + 1
            var extra: [[UInt8]] = []
            var records: [DevRuntime.EventRecord] = []
            var upgraded = false
            for action in (scenario.actions ?? []) where action.at == number {
                upgraded = upgraded || action.kind == "runtime_upgrade"
                Self.apply(action, number: number, parent: parent, nonce: &state.nonce, extra: &extra, records: &records)
            }
            let block = Self.build(parent: parent, number: number, timestamp: genesisTime + number * Self.chainTimeStep,
                                   specVersion: state.specVersion, salt: 0, extra: extra, events: records)
            state.blocks[block.hash] = block
            state.canonical.append(block.hash)
            events.append(.imported(block, best: true))
            // Like a node: the new runtime version is announced with the first block that runs it.
            if block.specVersion != parent.specVersion { events.append(.runtimeUpgraded(specVersion: block.specVersion)) }
            // The new code applies from the next block on.
            if upgraded { state.specVersion += 1 }
            // An active side fork grows by one block per canonical block.
            if let tip = state.sideTip, state.sideRemaining > 0, let tipBlock = state.blocks[tip] {
                state.salt += 1
                let side = Self.build(parent: tipBlock, number: tipBlock.number + 1,
                                      timestamp: genesisTime + (tipBlock.number + 1) * Self.chainTimeStep,
                                      specVersion: tipBlock.specVersion, salt: state.salt, extra: [], events: [])
                state.blocks[side.hash] = side
                state.sideTip = side.hash
                state.sideRemaining -= 1
                events.append(.imported(side, best: false, only: state.sideNode))
            }
            for (index, fork) in (scenario.forks ?? []).enumerated() where fork.at == number && state.forksMade.insert(index).inserted {
                if fork.reorg ?? false {
                    events += reorg(&state, depth: fork.length, backwards: fork.backwards ?? 0)
                } else {
                    state.salt += 1
                    let side = Self.build(parent: parent, number: number, timestamp: genesisTime + number * Self.chainTimeStep,
                                          specVersion: parent.specVersion, salt: state.salt, extra: [], events: [])
                    state.blocks[side.hash] = side
                    state.sideTip = side.hash
                    state.sideRemaining = fork.length - 1
                    state.sideNode = fork.node
                    events.append(.imported(side, best: false, only: fork.node))
                }
            }
            let tipHeight = UInt64(state.canonical.count - 1)
            while tipHeight > Self.finalityLag, state.finalized < tipHeight - Self.finalityLag {
                state.finalized += 1
                events.append(.finalized(state.blocks[state.canonical[Int(state.finalized)]]!))
            }
            for fault in (scenario.faults ?? []) where fault.at == number { events.append(.fault(fault)) }
            return number
        }
        if announce { events.forEach(emit) }
        return height
    }

    /// Replaces the last `depth` canonical blocks by a new branch one block longer, which becomes best; with
    /// `backwards` > 0 the new branch is `depth - backwards` blocks long, so the best height goes down.
    private func reorg(_ state: inout State, depth: Int, backwards: Int) -> [ChainEvent] {
        let depth = min(depth, Int(Self.finalityLag), state.canonical.count - 1 - Int(state.finalized))
        guard depth >= 1, backwards < depth else { return [] }
        let branchLength = backwards > 0 ? depth - backwards : depth + 1
        let forkPoint = state.canonical.count - 1 - depth
        var parent = state.blocks[state.canonical[forkPoint]]!
        state.salt += 1
        var events: [ChainEvent] = []
        var branch: [[UInt8]] = []
        for _ in 0 ..< branchLength {
            let number = parent.number + 1
            let block = Self.build(parent: parent, number: number, timestamp: genesisTime + number * Self.chainTimeStep,
                                   specVersion: parent.specVersion, salt: state.salt, extra: [], events: [])
            state.blocks[block.hash] = block
            branch.append(block.hash)
            parent = block
            events.append(.imported(block, best: false))
        }
        state.canonical.removeLast(depth)
        state.canonical += branch
        // The new tip is announced as best; the rest of the branch only on all-heads.
        if case .imported(let tip, _, _) = events.removeLast() { events.append(.imported(tip, best: true)) }
        return events
    }

    private static let important = (try? SS58.decode("subTKWVig3CiwwnPfKccXZHQKwnE36vNHfNTEUx3yYja4UNR9").account) ?? DevRuntime.account("important")
    static let ai3: UInt128 = 1_000_000_000_000_000_000

    private static func apply(_ action: Scenario.Action, number: UInt64, parent: DevBlock, nonce: inout UInt32,
                              extra: inout [[UInt8]], records: inout [DevRuntime.EventRecord]) {
        let alice = DevRuntime.account("alice"), bob = DevRuntime.account("bob"), sudoKey = DevRuntime.account("sudo")
        func signed(_ call: [UInt8], by signer: [UInt8], events: (UInt32) -> [DevRuntime.EventRecord]) {
            let index = UInt32(extra.count + 1)
            nonce += 1
            extra.append(DevRuntime.signedExtrinsic(call, signer: signer, nonce: nonce))
            records += events(index)
            records.append(DevRuntime.feePaid(index, who: signer))
            records.append(DevRuntime.extrinsicSuccess(index))
        }
        switch action.kind {
        case "sudo":
            signed(DevRuntime.sudo(DevRuntime.remark("devnode sudo at \(number)")), by: sudoKey) { [DevRuntime.sudid($0)] }
        case "large_transfer", "transfer", "important_transfer":
            let amount = UInt128(action.amount ?? (action.kind == "large_transfer" ? 2_000_000 : 10)) * ai3
            let dest = action.kind == "important_transfer" ? important : bob
            signed(DevRuntime.transfer(to: dest, value: amount, keepAlive: true), by: alice) {
                [DevRuntime.transferEvent($0, from: alice, to: dest, amount: amount)]
            }
        case "force_transfer":
            let amount = UInt128(action.amount ?? 50) * ai3
            signed(DevRuntime.forceTransfer(from: bob, to: alice, value: amount), by: sudoKey) {
                [DevRuntime.transferEvent($0, from: bob, to: alice, amount: amount)]
            }
        case "farmer_votes":
            for voter in 0 ..< max(1, action.count ?? 1) {
                let key = DevRuntime.account("farmer-\(voter)")
                let index = UInt32(extra.count + 1)
                extra.append(DevRuntime.unsignedExtrinsic(DevRuntime.vote(height: UInt32(number - 1), parentHash: parent.parentHash,
                                                                          slot: parent.timestamp / 1000, publicKey: key, rewardAddress: key)))
                records.append(DevRuntime.farmerVote(index, publicKey: key, rewardAddress: key, height: UInt32(number - 1), parentHash: parent.parentHash))
                records.append(DevRuntime.extrinsicSuccess(index))
            }
        case "operator_slashed":
            records.append(DevRuntime.operatorSlashed(operatorID: 7, blockNumber: UInt32(number - 1)))
        case "operator_offline":
            records.append(DevRuntime.operatorOffline(operatorID: 8))
        case "runtime_upgrade":
            signed(DevRuntime.sudo(DevRuntime.setCode(Array("devnode-runtime-\(number)".utf8))), by: sudoKey) {
                [DevRuntime.codeUpdated($0), DevRuntime.sudid($0)]
            }
        default:
            break
        }
    }

    static func build(parent: DevBlock?, number: UInt64, timestamp: UInt64, specVersion: UInt32, salt: UInt64,
                      extra: [[UInt8]], events records: [DevRuntime.EventRecord]) -> DevBlock {
        let extrinsics = [DevRuntime.unsignedExtrinsic(DevRuntime.timestampSet(timestamp))] + extra
        let events = DevRuntime.encodeEvents([DevRuntime.extrinsicSuccess(0, mandatory: true)] + records)
        var stateSeed = ScaleWriter()
        stateSeed.writeU64(number)
        stateSeed.writeU64(salt)
        var slot = ScaleWriter()
        slot.writeU8(0)
        slot.writeU64(timestamp / 1000)
        let header = BlockHeader(parentHash: parent?.hash ?? [UInt8](repeating: 0, count: 32), number: number,
                                 stateRoot: SubstrateHash.blake2b256(stateSeed.bytes),
                                 extrinsicsRoot: SubstrateHash.blake2b256(extrinsics.flatMap { $0 }),
                                 digest: number == 0 ? [] : [.preRuntime(engine: BlockHeader.subspaceEngine, data: slot.bytes)])
        return DevBlock(header: header, hash: header.hash, extrinsics: extrinsics, events: events, specVersion: specVersion,
                        timestamp: timestamp)
    }
}
