/// A message whose signatures verified against the active key set: authentic, whatever its payload says.
public struct VerifiedAlert: Hashable, Sendable {
    public let message: AlertMessage
    public let hash: AlertHash
    public let payload: Result<AlertPayload, AlertPayloadError>
    /// The active set after this alert, when it is a Set Keys whose keys are acceptable.
    public let rotatedKeys: AlertKeySet?
    /// Why this authentic alert cannot be acted on (unknown type, bad payload, unusable new keys); nil when it can.
    public let problem: String?

    /// The node calls to make; none when `problem` is set.
    public var nodeCalls: [NodeRPCCall] {
        guard problem == nil, case .success(let payload) = payload else { return [] }
        return payload.nodeCalls
    }
}

/// What the alert-worker does with one received message, given the active keys and the sequence ledger.
///
/// Order of checks: parse, signatures, sequence, payload. Only the signatures decide whether a message is
/// an alert at all: an authentic alert with a payload we cannot act on (an unknown type, say) still takes
/// its sequence number, recorded as rejected, so that the alerts after it are not held back forever.
public enum AlertAdmission: Hashable, Sendable {
    /// The next sequence number: in one transaction store it, rotate the keys or queue its node calls
    /// (or record it as rejected when `problem` is set), raise the operator alert, then `ledger.accept`.
    case inOrder(VerifiedAlert)
    /// Authentic but ahead: `ledger.hold` it, raise AlertSequenceGap and sync `missing` from a peer.
    case ahead(VerifiedAlert, missing: ClosedRange<UInt32>)
    /// An alert already accepted or held (or a peer's genesis alert, which every node makes itself): nothing to do.
    /// For an accepted number the caller compares `hash` with its row to tell a replay from a conflict.
    case alreadySeen(sequence: UInt32, hash: AlertHash)
    /// A different authentic alert for a number already held: the held one stays.
    case conflictsWithHeld(VerifiedAlert, heldHash: AlertHash)
    /// Too many alerts held already; drop this one, sync brings it back in order later.
    case holdLimitReached(sequence: UInt32)
    /// Not an authentic alert (unparseable, or its signatures do not make 3 distinct active keys): never
    /// stored, never relayed; raise AlertMessageRejected (throttled).
    case rejected(hash: AlertHash?, reasons: [String])

    public static func admit(raw: [UInt8], keys: AlertKeySet, ledger: SequenceLedger) -> AlertAdmission {
        let message: AlertMessage
        do { message = try AlertMessage(raw: raw) } catch {
            return .rejected(hash: AlertHeader(raw: raw).map { AlertHash(of: $0.encoded) }, reasons: [error.description])
        }
        let hash = message.hash
        if message.sequence == 0 { return .alreadySeen(sequence: 0, hash: hash) }
        if message.type == .unfinishedDisable { return .rejected(hash: hash, reasons: [AlertInspection.type99Reason]) }
        let verdict = AlertVerifier.verify(message, keys: keys)
        guard verdict.isValid else { return .rejected(hash: hash, reasons: verdict.reasons) }

        let payload = Result { () throws(AlertPayloadError) -> AlertPayload in try AlertPayload(type: message.type, bytes: message.payload) }
        var problem: String?
        var rotated: AlertKeySet?
        switch payload {
        case .failure(let error): problem = error.description
        case .success(.setKeys(let newKeys)):
            do { rotated = try keys.rotated(by: newKeys, alertHash: hash) } catch { problem = "set keys: \(error)" }
        case .success: break
        }
        let alert = VerifiedAlert(message: message, hash: hash, payload: payload, rotatedKeys: rotated, problem: problem)
        switch ledger.decide(sequence: message.sequence, hash: hash) {
        case .accept: return .inOrder(alert)
        case .hold(let missing): return .ahead(alert, missing: missing)
        case .alreadyAccepted, .alreadyHeld: return .alreadySeen(sequence: message.sequence, hash: hash)
        case .conflictsWithHeld(let held): return .conflictsWithHeld(alert, heldHash: held)
        case .holdLimitReached: return .holdLimitReached(sequence: message.sequence)
        }
    }
}

/// Limits AlertMessageRejected (INTERFACE.md, "Semantics", 8): raised once per distinct message hash, and
/// at most once per (peer, reason) per window, carrying how many were held back since, so a hostile peer
/// cannot flood operators. Time is a parameter; memory is bounded.
public struct RejectionThrottle<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    /// Whether to raise an alert for one rejection.
    public enum Decision: Hashable, Sendable {
        /// Raise it; `suppressed` rejections of this (peer, reason) were held back since the last one.
        case raise(suppressed: Int)
        case suppress
    }

    private struct PeerReason: Hashable, Sendable {
        let peer: String
        let reason: String
    }

    private struct Window: Sendable {
        var raisedAt: Instant
        var suppressed: Int
    }

    public let window: Duration
    public let maximumRemembered: Int
    private var seenHashes: Set<AlertHash> = []
    private var hashOrder: [AlertHash] = []
    private var windows: [PeerReason: Window] = [:]

    public init(window: Duration = .seconds(600), maximumRemembered: Int = 10_000) {
        self.window = window
        self.maximumRemembered = maximumRemembered
    }

    public mutating func decide(hash: AlertHash?, peer: String, reason: String, at now: Instant) -> Decision {
        if let hash {
            guard !seenHashes.contains(hash) else { return .suppress }
            seenHashes.insert(hash)
            hashOrder.append(hash)
            if hashOrder.count > maximumRemembered {
                seenHashes.remove(hashOrder.removeFirst())
            }
        }
        let key = PeerReason(peer: peer, reason: reason)
        if var open = windows[key], open.raisedAt.duration(to: now) < window {
            open.suppressed += 1
            windows[key] = open
            return .suppress
        }
        let suppressed = windows[key]?.suppressed ?? 0
        if windows.count >= maximumRemembered {
            windows = windows.filter { $0.value.raisedAt.duration(to: now) < window }
            // Still full of open windows: forget the oldest, which only lets it raise again early.
            if windows.count >= maximumRemembered, let oldest = windows.min(by: { $0.value.raisedAt < $1.value.raisedAt })?.key {
                windows[oldest] = nil
            }
        }
        windows[key] = Window(raisedAt: now, suppressed: 0)
        return .raise(suppressed: suppressed)
    }
}
