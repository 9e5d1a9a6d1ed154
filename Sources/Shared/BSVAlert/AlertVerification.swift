/// What one of an alert's signatures turned out to be.
public enum SignatureCheck: Hashable, Sendable {
    /// Recovered to this key of the active set.
    case signer(AlertPublicKey)
    /// A well-formed signature by a key that is not in the active set.
    case unknownKey(AlertPublicKey)
    /// Not 31...34: the reference's compressed-key headers (27...30 always fail there too).
    case headerOutOfRange(UInt8)
    /// r or s is 0 or ≥ n. Checked before recovery: the reference crashes on r = 0 or r = n.
    case scalarOutOfRange
    /// No point R exists for this r and recid (for instance r + n ≥ p for recid 2 or 3).
    case recoveryFailed

    public var signer: AlertPublicKey? {
        if case .signer(let key) = self { key } else { nil }
    }

    /// Nil for a signature by an active key.
    public var problem: String? {
        switch self {
        case .signer: nil
        case .unknownKey(let key): "recovered key \(key.hex) is not in the active key set"
        case .headerOutOfRange(let header): "header byte \(header) outside 31..34 (compressed-key headers)"
        case .scalarOutOfRange: "r or s outside [1, n-1]"
        case .recoveryFailed: "no public key can be recovered from this signature"
        }
    }
}

/// The verdict on an alert's signatures against one key set.
public struct SignatureVerdict: Hashable, Sendable {
    /// One entry per signature the message carries, in order.
    public let checks: [SignatureCheck]
    /// True only for exactly 3 signatures that recover to 3 distinct keys of the active set.
    public let isValid: Bool
    /// Every reason the signatures do not make the alert valid; empty when `isValid`.
    public let reasons: [String]

    /// For each signature, the active key that made it, or nil.
    public var signers: [AlertPublicKey?] { checks.map(\.signer) }
}

/// Verification of alert-system signatures: Bitcoin Signed Message over the hex of `data`, public-key
/// recovery, and the threshold of 3 **distinct** active keys (the reference lets one key sign three times).
public enum AlertVerifier {
    public static func verify(_ message: AlertMessage, keys: AlertKeySet) -> SignatureVerdict {
        verify(signatures: message.signatures, data: message.data, keys: keys)
    }

    public static func verify(signatures: [CompactSignature], data: [UInt8], keys: AlertKeySet) -> SignatureVerdict {
        let digest = BitcoinSignedMessage.digest(alertData: data)
        let checks: [SignatureCheck] = signatures.map { signature in
            switch Secp256k1Recovery.recover(signature, digest: digest) {
            case .recovered(let key): keys.contains(key) ? .signer(key) : .unknownKey(key)
            case .headerOutOfRange(let header): .headerOutOfRange(header)
            case .scalarOutOfRange: .scalarOutOfRange
            case .recoveryFailed: .recoveryFailed
            }
        }
        var reasons: [String] = []
        if checks.count != AlertKeySet.threshold {
            reasons.append("\(AlertKeySet.threshold) signatures required, the message carries \(checks.count)")
        }
        for (index, check) in checks.enumerated() {
            if let problem = check.problem { reasons.append("signature \(index + 1): \(problem)") }
        }
        let signers = checks.compactMap(\.signer)
        var repeated: [AlertPublicKey] = []
        for (index, key) in signers.enumerated() where signers[..<index].contains(key) && !repeated.contains(key) {
            repeated.append(key)
        }
        for key in repeated {
            let count = signers.filter { $0 == key }.count
            reasons.append("key \(key.hex) signed \(count) times; each key counts once")
        }
        let distinct = Set(signers).count
        let isValid = checks.count == AlertKeySet.threshold && signers.count == checks.count && distinct == AlertKeySet.threshold
        if !isValid {
            let onlyRepeats = reasons.count == repeated.count && !repeated.isEmpty
            reasons.append(onlyRepeats ? "signatures do not verify (3 distinct keys required)" : "signatures do not verify")
        }
        return SignatureVerdict(checks: checks, isValid: isValid, reasons: reasons)
    }
}
