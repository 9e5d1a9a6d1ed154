import Foundation
import SubstrateRuntime
import SubstratePrimitives
import Store
import Wire
import WorkerRuntime

/// A best-fork block as the rules see it: decoded with the metadata of its own spec version, plus where and
/// when it was received. `receivedAtMilliseconds` is the local receive time of a Current block; it is nil for
/// Startup/Replay blocks (their processing time says nothing about when the node got them), which then skip
/// the local-gap (resume) check but not the chain-time gap check.
package struct RuleBlock: Sendable {
    package var height: UInt64
    package var hash: [UInt8]
    package var parentHash: [UInt8]
    package var decoded: DecodedBlock
    package var specVersion: UInt32?
    /// The node that supplied the block, as given on the command line.
    package var node: String?
    package var receivedAtMilliseconds: UInt64?
    package var mode: CanonicalMode

    package init(decoded: DecodedBlock, specVersion: UInt32?, node: String?, receivedAtMilliseconds: UInt64?, mode: CanonicalMode) {
        self.height = decoded.header.number
        self.hash = decoded.hash
        self.parentHash = decoded.header.parentHash
        self.decoded = decoded
        self.specVersion = specVersion
        self.node = node
        self.receivedAtMilliseconds = receivedAtMilliseconds
        self.mode = mode
    }

    /// Spec §3.1: the first PreRuntime digest's slot.
    package var slot: UInt64? { decoded.header.firstPreRuntimeSlot }
    /// `Timestamp.set.now`, ms.
    package var chainTime: UInt64? { decoded.timestamp }
    /// `observed_at` of this block's alerts: deterministic for a given input.
    package var observedAt: UInt64 { receivedAtMilliseconds ?? chainTime ?? 0 }
}

/// What the rules remember of a block for later texts ("Previous best block:") and gap checks.
package struct BlockStamp: Sendable, Codable, Equatable {
    package var height: UInt64
    package var hash: [UInt8]
    package var chainTime: UInt64?
    package var localTime: UInt64?
    package var slot: UInt64?

    package init(height: UInt64, hash: [UInt8], chainTime: UInt64?, localTime: UInt64?, slot: UInt64?) {
        self.height = height; self.hash = hash; self.chainTime = chainTime; self.localTime = localTime; self.slot = slot
    }

    package init(_ block: RuleBlock) {
        self.init(height: block.height, hash: block.hash, chainTime: block.chainTime, localTime: block.receivedAtMilliseconds, slot: block.slot)
    }
}

extension AlertMode {
    package init(_ mode: CanonicalMode) {
        switch mode {
        case .startup: self = .startup
        case .current: self = .current
        case .replay: self = .replay
        }
    }
}

/// Builds `AlertPayload`s for one network and instance: ids, titles, markdown bodies, links.
package struct AlertFactory: Sendable {
    package var network: AlertNetwork
    package var instance: String

    package var explorer: String { network.explorerURL.hasSuffix("/") ? String(network.explorerURL.dropLast()) : network.explorerURL }

    package func blockURL(_ hash: [UInt8]) -> String { "\(explorer)/block/\(Hex.encode(hash))" }
    package func extrinsicURL(_ hash: [UInt8]) -> String { "\(explorer)/extrinsic/\(Hex.encode(hash))" }
    package func eventURL(height: UInt64, index: Int) -> String { "\(explorer)/event/\(height)-\(index)" }

    /// `{BlockInfo}` of spec §6.4.
    package func blockInfo(_ b: BlockStamp) -> String {
        var s = "Block: [\(AlertText.shortHash(b.hash))](\(blockURL(b.hash))) (\(b.height))\n"
        if let t = b.chainTime { s += "ChainTime: \(AlertText.timestamp(milliseconds: t)) (\(t))\n" }
        if let t = b.localTime { s += "LocalTime: \(AlertText.timestamp(milliseconds: t)) (\(t))\n" }
        if let slot = b.slot { s += "Slot: \(slot)\n" }
        return s
    }

    /// Deterministic alert id: `kind:network:blockhash[:suffix]`.
    package func id(_ kind: AlertKind, block: [UInt8], suffix: String? = nil) -> String {
        var s = "\(kind.rawValue):\(network.idTag):\(Hex.encode(block, prefix: false))"
        if let suffix { s += ":\(suffix)" }
        return s
    }

    package func amount(_ value: UInt128?) -> String {
        AlertText.amount(value, decimals: network.decimals, symbol: network.tokenSymbol)
    }

    /// An alert about `block`; `title` is the bold first line, `body` what follows it.
    package func alert(_ kind: AlertKind, id: String, block: BlockStamp, mode: CanonicalMode, node: String?,
               title: String, body: String, extrinsic: AlertPayload.ExtrinsicRef? = nil, event: AlertPayload.EventRef? = nil,
               links: [String: String] = [:], fields: [String: AlertFieldValue] = [:], observedAtMilliseconds: UInt64) -> AlertPayload {
        var allLinks = links
        allLinks["block"] = blockURL(block.hash)
        return AlertPayload(
            id: id, kind: kind, instance: instance, network: network.name, node: node,
            block: .init(height: block.height, hash: Hex.encode(block.hash)), extrinsic: extrinsic, event: event,
            title: title, text: "**\(title)**" + (body.isEmpty ? "" : "\n" + body), links: allLinks, fields: fields,
            observedAt: AlertText.rfc3339(milliseconds: observedAtMilliseconds),
            mode: AlertMode(mode), blockInfo: blockInfo(block))
    }
}
