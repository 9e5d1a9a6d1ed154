import Foundation
import Testing
@testable import node_watcher
@testable import devnode
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// The devnode's runtime description: real V14 metadata, the same shapes as the Chronos runtime, and
/// blocks that decode with our decoder.
struct DevnodeRuntimeTests {
    static let conformance: URL = {
        if let override = ProcessInfo.processInfo.environment["CHAIN_ALERTER_CONFORMANCE"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/conformance")
    }()
    static let chronosPath = conformance.appendingPathComponent("substrate/metadata/chronos_spec6_v14.scale").path
    static let chronosAvailable = FileManager.default.fileExists(atPath: chronosPath)
    static let required = ProcessInfo.processInfo.environment["CHAIN_ALERTER_REQUIRE_CONFORMANCE"] == "1"

    /// What the alert rules read: pallet → calls and events whose names, field names and field type shapes
    /// must match Chronos. (Subspace.vote's argument is simplified in the devnode: the rules read
    /// Subspace.FarmerVote events instead; Domains.OperatorOffline is not in Chronos spec 6.)
    static let compared: [(pallet: String, calls: [String], events: [String])] = [
        ("System", ["remark", "set_code", "remark_with_event"], ["ExtrinsicSuccess", "ExtrinsicFailed", "CodeUpdated", "NewAccount"]),
        ("Timestamp", ["set"], []),
        ("Subspace", ["enable_authoring_by_anyone"], ["FarmerVote"]),
        ("Balances", ["transfer_allow_death", "force_transfer", "transfer_keep_alive", "transfer_all", "force_set_balance"],
         ["Endowed", "Transfer", "Deposit", "Withdraw"]),
        ("TransactionPayment", [], ["TransactionFeePaid"]),
        ("Utility", ["batch", "batch_all", "force_batch"], ["BatchCompleted", "ItemCompleted"]),
        ("Domains", ["nominate_operator", "deregister_operator"], ["OperatorSlashed"]),
        ("Sudo", ["sudo", "sudo_unchecked_weight", "set_key", "sudo_as", "remove_key"], ["Sudid", "KeyChanged", "SudoAsDone"]),
    ]

    /// A structural description of a type: primitives, compacts, arrays and sequences by element, single-field
    /// wrappers see-through, composites by field names, enums by their last path segment.
    static func shape(_ registry: TypeRegistry, _ id: Int, depth: Int = 0) -> String {
        guard let type = registry[id] else { return "?" }
        if depth > 3 { return "…" }
        switch type.shape {
        case .primitive(let p): return p.name
        case .compact(let inner): return "Compact<\(shape(registry, inner, depth: depth + 1))>"
        case .array(let length, let element): return "[\(shape(registry, element, depth: depth + 1)); \(length)]"
        case .sequence(let element): return "Vec<\(shape(registry, element, depth: depth + 1))>"
        case .tuple(let ids): return "(" + ids.map { shape(registry, $0, depth: depth + 1) }.joined(separator: ", ") + ")"
        case .bitSequence: return "BitVec"
        case .composite(let fields):
            if fields.count == 1, fields[0].name == nil { return shape(registry, fields[0].typeId, depth: depth) }
            return "{" + fields.map { "\($0.name ?? "_"): \(shape(registry, $0.typeId, depth: depth + 1))" }.joined(separator: ", ") + "}"
        case .variant:
            return "enum \(type.path.last ?? "?")"
        }
    }

    static func variants(_ metadata: RuntimeMetadata, _ typeId: Int?) -> [String: TypeVariant] {
        guard let typeId, case .variant(let variants, _)? = metadata.registry[typeId]?.shape else { return [:] }
        return Dictionary(uniqueKeysWithValues: variants.map { ($0.name, $0) })
    }

    @Test("the devnode metadata is real V14 and parses with our RuntimeMetadata")
    func metadataParses() throws {
        let bytes = DevRuntime.metadata(specVersion: 3)
        #expect(Array(bytes.prefix(5)) == [0x6d, 0x65, 0x74, 0x61, 0x0e])
        let metadata = try RuntimeMetadata(bytes: bytes)
        #expect(metadata.version == 14)
        #expect(metadata.specVersion == 3)
        #expect(metadata.specName == "subspace")
        #expect(metadata.ss58Prefix == 6094)
        #expect(metadata.pallets.map(\.name) == ["System", "Timestamp", "Subspace", "Balances", "TransactionPayment", "Utility", "Domains", "Sudo"])
        #expect(metadata.eventsTypeId != nil)
    }

    @Test("pallet, call and event names, indices, field names and field type shapes match the Chronos runtime")
    func matchesChronos() throws {
        guard Self.chronosAvailable else {
            if Self.required { Issue.record("conformance data missing at \(Self.chronosPath) and CHAIN_ALERTER_REQUIRE_CONFORMANCE=1") }
            print("conformance data not found at \(Self.chronosPath): the Chronos comparison is disabled")
            return
        }
        let chronos = try RuntimeMetadata(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.chronosPath))))
        let devnode = try RuntimeMetadata(bytes: DevRuntime.metadata(specVersion: 1))
        var differences: [String] = []
        var comparedFields = 0
        for (palletName, calls, events) in Self.compared {
            guard let mine = devnode.pallet(named: palletName), let theirs = chronos.pallet(named: palletName) else {
                differences.append("pallet \(palletName) missing")
                continue
            }
            if mine.index != theirs.index { differences.append("\(palletName) index \(mine.index) != \(theirs.index)") }
            for (kind, names, myType, theirType) in [("call", calls, mine.callTypeId, theirs.callTypeId), ("event", events, mine.eventTypeId, theirs.eventTypeId)] {
                let myVariants = Self.variants(devnode, myType), theirVariants = Self.variants(chronos, theirType)
                for name in names {
                    guard let a = myVariants[name], let b = theirVariants[name] else {
                        differences.append("\(palletName).\(name) (\(kind)) missing: devnode \(myVariants[name] != nil), chronos \(theirVariants[name] != nil)")
                        continue
                    }
                    if a.index != b.index { differences.append("\(palletName).\(name) index \(a.index) != \(b.index)") }
                    let mineFields = a.fields.map { "\($0.name ?? "_"): \(Self.shape(devnode.registry, $0.typeId))" }
                    let theirFields = b.fields.map { "\($0.name ?? "_"): \(Self.shape(chronos.registry, $0.typeId))" }
                    comparedFields += theirFields.count
                    if mineFields != theirFields { differences.append("\(palletName).\(name): devnode \(mineFields) vs chronos \(theirFields)") }
                }
            }
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        #expect(comparedFields >= 45, "compared \(comparedFields) fields")
    }

    @Test("devnode blocks decode with our decoder: timestamp inherent, slot digest, scripted extrinsics and events, linked hashes")
    func blocksDecode() throws {
        let scenario = Scenario(name: "t", history: 12, blockIntervalMilliseconds: 100,
                                actions: [.init(kind: "sudo", at: 3), .init(kind: "large_transfer", at: 4), .init(kind: "force_transfer", at: 5),
                                          .init(kind: "important_transfer", at: 6), .init(kind: "farmer_votes", at: 7, count: 3),
                                          .init(kind: "operator_slashed", at: 8), .init(kind: "operator_offline", at: 9),
                                          .init(kind: "runtime_upgrade", at: 10)])
        let chain = DevChain(scenario: scenario)
        var names: [String] = []
        var eventNames: [String] = []
        for height in 1 ... 12 {
            let block = chain.block(chain.canonicalHash(UInt64(height))!)!
            #expect(block.parentHash == chain.canonicalHash(UInt64(height - 1)))
            #expect(block.hash == SubstrateHash.blake2b256(block.header.encoded))
            let metadata = try RuntimeMetadata(bytes: chain.metadata(specVersion: block.specVersion))
            let decoded = try metadata.decodeBlock(header: block.header.encoded, extrinsics: block.extrinsics, events: block.events)
            #expect(decoded.timestamp == block.timestamp)
            #expect(decoded.header.firstPreRuntimeSlot == block.timestamp / 1000)
            names += decoded.extrinsics.dropFirst().map { "\($0.call.pallet).\($0.call.name)" }
            eventNames += (decoded.events ?? []).map { "\($0.pallet).\($0.name)" }
        }
        #expect(names == ["Sudo.sudo", "Balances.transfer_keep_alive", "Balances.force_transfer", "Balances.transfer_keep_alive",
                          "Subspace.vote", "Subspace.vote", "Subspace.vote", "Sudo.sudo"])
        for event in ["Sudo.Sudid", "Balances.Transfer", "Subspace.FarmerVote", "Domains.OperatorSlashed", "Domains.OperatorOffline",
                      "System.CodeUpdated", "TransactionPayment.TransactionFeePaid"] {
            #expect(eventNames.contains(event), "\(event)")
        }
        #expect(chain.block(chain.canonicalHash(10)!)!.specVersion == 1)
        #expect(chain.block(chain.canonicalHash(11)!)!.specVersion == 2)
    }

    @Test("scenarios load from TOML and JSON; unknown kinds are refused with the list of known ones")
    func scenarios() throws {
        let demo = try Scenario.parse(Scenario.bundledDemo)
        #expect(demo.name == "demo" && demo.blockIntervalMilliseconds == 500 && demo.endAt == 70)
        #expect(demo.forks?.contains { $0.reorg == true } == true)
        let json = try Scenario.parse(#"{"name":"j","history":3,"block_interval_ms":10,"faults":[{"at":2,"kind":"drop_connection"}],"nodes":[{"name":"a","delay_ms":5},{"name":"b","lag_blocks":1}]}"#)
        #expect(json.faults?.first?.kind == "drop_connection")
        #expect(json.nodes?.count == 2)
        #expect(throws: ScenarioError.self) { try Scenario.parse("name = \"x\"\nhistory = 1\nblock_interval_ms = 5\n[[faults]]\nat = 1\nkind = \"meteor\"\n") }
    }
}
