import Foundation
import Testing
@testable import AlertRules
@testable import alert_worker
@testable import devnode
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// The shared conformance data (`$CHAIN_ALERTER_CONFORMANCE` or `../shared/conformance`), read in place.
enum RulesConformance {
    static let directory: URL = {
        if let o = ProcessInfo.processInfo.environment["CHAIN_ALERTER_CONFORMANCE"], !o.isEmpty { return URL(fileURLWithPath: o) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/conformance")
    }()
    static var subspace: URL { directory.appendingPathComponent("substrate/subspace") }
    static let isAvailable = FileManager.default.fileExists(atPath: subspace.appendingPathComponent("chain.json").path)
    static let isRequired = ProcessInfo.processInfo.environment["CHAIN_ALERTER_REQUIRE_CONFORMANCE"] == "1"
    /// Conformance tests run when the data is there, or fail when CHAIN_ALERTER_REQUIRE_CONFORMANCE=1.
    static let enabled = isAvailable || isRequired
    static let note = "conformance data not found at \(subspace.path) (set CHAIN_ALERTER_CONFORMANCE); Subspace conformance rule tests are disabled"

    static let metadata: RuntimeMetadata? = {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("substrate/metadata/chronos_spec6_v14.scale")) else { return nil }
        return try? RuntimeMetadata(bytes: [UInt8](data))
    }()

    static func json(_ name: String) throws -> JSONValue {
        try JSONValue.parse([UInt8](try Data(contentsOf: subspace.appendingPathComponent(name))))
    }

    /// Block `n` (1000...1005) as a canonical block message.
    static func canonical(_ n: Int, mode: CanonicalMode = .replay) throws -> CanonicalBlock {
        let file = try json("chronos_synthetic_\(n).json")
        guard case .string(let header)? = file["header_scale"], case .array(let xs)? = file["extrinsics"],
              case .string(let events)? = file["events_storage_hex"] else { throw TestDataError("block \(n) lacks fields") }
        let headerBytes = Hex.decode(header)!
        let decodedHeader = try BlockHeader(scale: headerBytes)
        let fetched = FetchedBlock(blockHash: decodedHeader.hash, header: headerBytes,
                                   extrinsics: xs.compactMap { if case .string(let s) = $0 { Hex.decode(s) } else { nil } },
                                   events: Hex.decode(events), specVersion: 6, metadata: nil)
        return CanonicalBlock(mode: mode, height: decodedHeader.number, parentHash: decodedHeader.parentHash, block: fetched)
    }

    /// Block `n` decoded for the rules; received 6 s apart from #1000 unless told otherwise.
    static func block(_ n: Int, mode: CanonicalMode = .replay, receivedAt: UInt64? = nil) throws -> RuleBlock {
        guard let metadata else { throw TestDataError("metadata missing") }
        let c = try canonical(n, mode: mode)
        let decoded = try metadata.decodeBlock(header: c.block.header!, extrinsics: c.block.extrinsics!, events: c.block.events)
        return RuleBlock(decoded: decoded, specVersion: 6, node: "ws://node-a:9944",
                         receivedAtMilliseconds: receivedAt ?? (1_750_000_000_500 + UInt64(n - 1000) * 6000), mode: mode)
    }

    /// `expected.extrinsics[i].extrinsic_hash` of block n.
    static func extrinsicHash(_ n: Int, _ i: Int) throws -> String {
        let file = try json("chronos_synthetic_\(n).json")
        guard case .array(let xs)? = file["expected"]?["extrinsics"], case .string(let h)? = xs[i]["extrinsic_hash"] else { throw TestDataError("no hash") }
        return h
    }

    static func blockHash(_ n: Int) throws -> String {
        guard case .string(let h)? = try json("chronos_synthetic_\(n).json")["hash"] else { throw TestDataError("no hash") }
        return h
    }
}

struct TestDataError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

enum Fixtures {
    static let catalogue = try! NetworkCatalogue()
    static var chronos: AlertNetwork { catalogue.named("Autonomys Chronos Testnet")! }
    static var mainnet: AlertNetwork { catalogue.named("Autonomys Mainnet")! }

    static func engine(_ network: AlertNetwork = chronos, run: String = "run-1") -> AlertRuleEngine {
        AlertRuleEngine(network: network, instance: "Test", runID: run, nodes: ["ws://node-a:9944"])
    }

    static func hash(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }
}
