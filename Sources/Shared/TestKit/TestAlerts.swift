import Foundation
import Store

/// A test alert with a deterministic id.
public func testAlert(_ i: Int, kind: AlertKind = .sudoCall, prefix: String = "t") -> AlertPayload {
    let hash = "0x" + String(repeating: String(format: "%02x", i % 256), count: 32)
    return AlertPayload(id: "\(prefix)-\(kind.rawValue)-\(i)", kind: kind, instance: "Test", network: "Autonomys Mainnet",
                        node: "ws://127.0.0.1:9944", block: .init(height: UInt64(1000 + i), hash: hash),
                        extrinsic: kind == .sudoCall ? .init(index: 2, hash: hash) : nil, event: nil,
                        title: "\(kind.rawValue) \(i)", text: "**Sudo call detected**\nExtrinsic Sudo::sudo(2)",
                        links: ["block": "https://autonomys.subscan.io/block/\(hash)"], fields: ["n": .int(Int64(i))],
                        observedAt: AlertPayload.timestamp(Date()), mode: .current)
}
