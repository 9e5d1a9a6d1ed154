/// What to do with a verified alert, given the sequence numbers already accepted.
public enum SequenceDecision: Hashable, Sendable {
    /// The next sequence number: process it now.
    case accept
    /// Ahead of the next one: keep it back until the missing numbers arrive (raise AlertSequenceGap and sync
    /// them); `missing` is the first run of missing numbers, starting at the next one.
    case hold(missing: ClosedRange<UInt32>)
    /// Already accepted (or sequence 0, the genesis every node makes itself): never processed twice. The
    /// caller compares hashes to tell a replay from a conflicting alert with a used number.
    case alreadyAccepted
    /// Already held back with this very hash: nothing new.
    case alreadyHeld
    /// Held back under this number with a different hash: the first one stays, this one is refused.
    case conflictsWithHeld(AlertHash)
    /// More alerts held back than the ledger keeps; drop it and let sync fetch it in order later.
    case holdLimitReached
}

/// Sequence rules of the alert-system as a value: alerts are processed strictly in order 1, 2, 3, …; one
/// that arrives early is held (the reference accepted it and never back-filled the gap), and a number is
/// never processed twice (the reference's sync path did not check). Pure: the alert-worker persists
/// `latest` with the alert rows and rebuilds the held set from what it kept.
public struct SequenceLedger: Hashable, Sendable {
    /// The highest sequence number accepted with all before it (0 = only the genesis alert).
    public private(set) var latest: UInt32
    /// Held-back alerts by sequence number.
    public private(set) var held: [UInt32: AlertHash]
    public let maximumHeld: Int

    public init(latest: UInt32 = 0, maximumHeld: Int = 1024) {
        self.latest = latest
        self.held = [:]
        self.maximumHeld = maximumHeld
    }

    /// The sequence number that is accepted next; nil once `UInt32.max` has been accepted.
    public var next: UInt32? { latest == .max ? nil : latest + 1 }

    /// The ranges of missing numbers below the highest held one, in order (empty without a gap).
    public var gaps: [ClosedRange<UInt32>] {
        var ranges: [ClosedRange<UInt32>] = []
        var expected = next
        for sequence in held.keys.sorted() {
            guard let from = expected else { break }
            if sequence > from { ranges.append(from ... sequence - 1) }
            expected = sequence == .max ? nil : sequence + 1
        }
        return ranges
    }

    /// Classifies a verified alert. Does not change the ledger: call `accept` or `hold` with the decision.
    public func decide(sequence: UInt32, hash: AlertHash) -> SequenceDecision {
        guard let next, sequence >= next else { return .alreadyAccepted }
        if sequence == next { return .accept }
        if let heldHash = held[sequence] { return heldHash == hash ? .alreadyHeld : .conflictsWithHeld(heldHash) }
        guard held.count < maximumHeld else { return .holdLimitReached }
        // The first run of missing numbers: from `next` up to the lowest alert already waiting beyond it.
        let lowestAhead = held.keys.filter { $0 > next }.min().map { min($0, sequence) } ?? sequence
        return .hold(missing: next ... lowestAhead - 1)
    }

    /// Records that `sequence` (which `decide` called `.accept`) was processed.
    public mutating func accept(_ sequence: UInt32) throws(SequenceLedgerError) {
        guard sequence == next else { throw .notNext(sequence: sequence, next: next) }
        latest = sequence
        held[sequence] = nil
    }

    /// Keeps an alert back (after `decide` said `.hold`).
    public mutating func hold(_ sequence: UInt32, hash: AlertHash) throws(SequenceLedgerError) {
        guard case .hold = decide(sequence: sequence, hash: hash) else { throw .cannotHold(sequence) }
        held[sequence] = hash
    }

    /// The held alert that has become next, if any: process it, then `accept` it, then ask again.
    public var releasable: (sequence: UInt32, hash: AlertHash)? {
        guard let next, let hash = held[next] else { return nil }
        return (next, hash)
    }
}

/// A ledger update that does not follow the ledger's own decision.
public enum SequenceLedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    case notNext(sequence: UInt32, next: UInt32?)
    case cannotHold(UInt32)

    public var description: String {
        switch self {
        case .notNext(let sequence, let next):
            "sequence \(sequence) is not the next one (\(next.map(String.init) ?? "none: the last number was used")); alerts are accepted in order"
        case .cannotHold(let sequence): "sequence \(sequence) cannot be held: it is not ahead of the next number, or already held, or the hold limit is reached"
        }
    }
}
