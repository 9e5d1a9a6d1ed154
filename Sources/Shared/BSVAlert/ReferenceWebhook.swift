/// The body the reference alert-system POSTs to `alert_webhook_url` (§8.2), offered as a webhook format
/// for tools written against it: `{"alert_type":n,"raw":"<payload hex>","sequence":n,"text":"…"}`.
public struct ReferenceWebhookBody: Codable, Hashable, Sendable {
    public let alertType: UInt32
    /// Hex of the payload only (not the header, not the signatures), as the reference sends it.
    public let raw: String
    public let sequence: UInt32
    public let text: String

    enum CodingKeys: String, CodingKey {
        case alertType = "alert_type"
        case raw, sequence, text
    }

    public init(alertType: UInt32, raw: String, sequence: UInt32, text: String) {
        self.alertType = alertType
        self.raw = raw
        self.sequence = sequence
        self.text = text
    }

    public init(message: AlertMessage, payload: AlertPayload, processed: Bool) {
        self.init(
            alertType: message.type.rawValue,
            raw: HexEncoding.encode(message.payload),
            sequence: message.sequence,
            text: "Sequence [`\(message.sequence)`], alert type [`\(message.type.name)`], message: [`\(payload.referenceText)`], processed: [`\(processed)`]"
        )
    }
}

extension AlertPayload {
    /// The reference's `MessageString()`. Freeze, Unfreeze and Confiscate apply `%x` to a hex string, so the
    /// txid and the transaction appear hex-encoded twice; kept, since this text exists for compatibility.
    public var referenceText: String {
        switch self {
        case .informational(let message):
            return "Informational: \(String(decoding: message, as: UTF8.self))"
        case .freezeUTXO(let funds):
            guard let fund = funds.first else { return "" }
            return "Freezing utxo id [\(HexEncoding.encode(Array(fund.txidHex.utf8)))]; vout: [\(Int64(bitPattern: fund.vout))], enforcing at height start [\(Int64(bitPattern: fund.enforceAtHeightStart))], end [\(Int64(bitPattern: fund.enforceAtHeightStop))]."
        case .unfreezeUTXO(let funds):
            guard let fund = funds.first else { return "" }
            return "Unfreezing utxo id [\(HexEncoding.encode(Array(fund.txidHex.utf8)))]; vout: [\(Int64(bitPattern: fund.vout))], by setting enforce height at start [\(Int64(bitPattern: fund.enforceAtHeightStart))], end [\(Int64(bitPattern: fund.enforceAtHeightStop))]."
        case .confiscateUTXO(let height, let transaction, _):
            return "Adding confiscation transaction [\(HexEncoding.encode(Array(HexEncoding.encode(transaction).utf8)))] to whitelist enforcing at height [\(Int64(bitPattern: height))]."
        case .banPeer(let peer, let reason):
            return "Banning peer [\(peer)]; reason [\(reason)]."
        case .unbanPeer(let peer, let reason):
            return "Unbanning peer [\(peer)]; reason [\(reason)]."
        case .invalidateBlock(let hash, let reason):
            return "Invalidating block hash [\(Self.displayHex(ofBlockHash: hash))]; reason [\(reason)]."
        case .setKeys(let keys):
            return "Setting keys: " + keys.map(\.hex).joined(separator: ", ")
        }
    }
}
