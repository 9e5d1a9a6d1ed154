/// Everything an operator needs to know about one raw alert: what it says, who signed it, and whether a
/// node would act on it, with every reason it would not. Never throws: any input gets a verdict.
public struct AlertInspection: Sendable {
    public let header: AlertHeader?
    /// Nil when the header cannot be read. When the rest does not parse, the hash of the 20-byte header alone.
    public let hash: AlertHash?
    public let message: AlertMessage?
    public let payload: Result<AlertPayload, AlertPayloadError>?
    public let signatures: SignatureVerdict?
    /// The active set after this alert when it is a valid Set Keys; nil otherwise.
    public let rotatedKeys: AlertKeySet?
    /// Every reason the alert is not valid; empty when it is.
    public let reasons: [String]

    /// True only when an operator's node would act on it (sequence order aside, which needs the store).
    public var isValid: Bool { reasons.isEmpty }

    static let genesisReason = "sequence 0 is the genesis alert, which every node creates itself: it is never verified or acted on"
    static let type99Reason = "type 99 is not supported (the reference checks only one signature and has no handler)"

    public init(raw: [UInt8], keys: AlertKeySet) {
        var reasons: [String] = []
        let header = AlertHeader(raw: raw)
        self.header = header
        if header?.sequence == 0 { reasons.append(Self.genesisReason) }
        let message: AlertMessage
        do {
            message = try AlertMessage(raw: raw)
        } catch {
            reasons.insert(error.description, at: 0)
            self.hash = header.map { AlertHash(of: $0.encoded) }
            self.message = nil
            self.payload = nil
            self.signatures = nil
            self.rotatedKeys = nil
            self.reasons = reasons
            return
        }
        self.message = message
        self.hash = message.hash
        if message.type == .unfinishedDisable { reasons.append(Self.type99Reason) }
        let verdict = AlertVerifier.verify(message, keys: keys)
        signatures = verdict
        reasons += verdict.reasons
        let payload = Result { () throws(AlertPayloadError) -> AlertPayload in try AlertPayload(type: message.type, bytes: message.payload) }
        self.payload = payload
        var rotated: AlertKeySet?
        switch payload {
        case .failure(let error):
            reasons.append(error.description)
        case .success(.setKeys(let newKeys)):
            do { rotated = try keys.rotated(by: newKeys, alertHash: message.hash) } catch { reasons.append("set keys: \(error)") }
        case .success:
            break
        }
        rotatedKeys = reasons.isEmpty ? rotated : nil
        self.reasons = reasons
    }

    /// The JSON object `supervisor alert-system inspect` prints (INTERFACE.md, "Semantics", 9).
    public var json: AlertJSON {
        let payloadJSON: AlertJSON = switch payload {
        case .success(let decoded)?: decoded.json
        case .failure(let error)?: .fields(["ok": .bool(false), "error": .string(error.description)])
        case nil: .null
        }
        let signersJSON: AlertJSON = signatures.map { verdict in .array(verdict.signers.map { .optional($0?.hex) }) } ?? .null
        return .fields([
            "version": header.map { .uint(UInt64($0.version)) } ?? .null,
            "sequence": header.map { .uint(UInt64($0.sequence)) } ?? .null,
            "timestamp": header.map { .uint($0.timestamp) } ?? .null,
            "type": header.map { .uint(UInt64($0.type.rawValue)) } ?? .null,
            "type_name": header.map { .string($0.type.name) } ?? .null,
            "hash": .optional(hash?.displayHex),
            "payload": payloadJSON,
            "signers": signersJSON,
            "valid": .bool(isValid),
            "reasons": .array(reasons.map(AlertJSON.string)),
        ])
    }
}
