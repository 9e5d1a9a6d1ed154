/// The active public keys an alert must be signed by (3 distinct ones of them), in the order the reference
/// keeps them (insertion order). Every key is a validated curve point, the keys are distinct, and there are
/// 1...10 of them. On mainnet the reference's public test keys are refused.
public struct AlertKeySet: Hashable, Sendable {
    public static let maximumKeys = 10
    /// Signatures from this many distinct active keys make an alert valid.
    public static let threshold = 3

    public let keys: [AlertPublicKey]
    /// The network the set is a trust anchor for; nil for a set an operator loaded from a file to inspect.
    public let network: AlertNetwork?
    /// The hash of the Set Keys alert that installed this set; nil for a genesis set.
    public let lastUpdateHash: AlertHash?

    public init(keys: [AlertPublicKey], network: AlertNetwork?, lastUpdateHash: AlertHash? = nil) throws(AlertKeyError) {
        guard !keys.isEmpty else { throw .noKeys }
        guard keys.count <= Self.maximumKeys else { throw .tooManyKeys(keys.count) }
        var seen = Set<AlertPublicKey>()
        for key in keys {
            guard seen.insert(key).inserted else { throw .duplicateKey(key.hex) }
            if network == .mainnet, Self.publicTestKeys.contains(key) { throw .publicTestKeyOnMainnet(key.hex) }
        }
        self.keys = keys
        self.network = network
        self.lastUpdateHash = lastUpdateHash
    }

    public init(hexKeys: [String], network: AlertNetwork?) throws(AlertKeyError) {
        var keys: [AlertPublicKey] = []
        for hex in hexKeys { keys.append(try AlertPublicKey(hex: hex)) }
        try self.init(keys: keys, network: network)
    }

    /// A key file: one compressed public key in hex per line; blank lines and `#` comments are skipped.
    public init(keyFileContents: String, network: AlertNetwork? = nil) throws(AlertKeyError) {
        let lines = keyFileContents.split(whereSeparator: \.isNewline).map { String($0).trimmingWhitespace }
        try self.init(hexKeys: lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }.map(String.init), network: network)
    }

    public func contains(_ key: AlertPublicKey) -> Bool { keys.contains(key) }

    /// The set the reference ships as `genesis_keys` for `network` (mainnet = production, stn = testnet,
    /// local = the public keys of the published test private keys Key1..Key5).
    public static func genesis(_ network: AlertNetwork) -> AlertKeySet {
        let hexKeys: [String]
        switch network {
        case .mainnet: hexKeys = mainnetGenesisHex
        case .testnet, .stn: hexKeys = testnetGenesisHex
        case .local: hexKeys = publicTestKeyHex
        }
        // Constants of this file: they are valid points, distinct, and not test keys on mainnet (a test checks).
        do { return try AlertKeySet(hexKeys: hexKeys, network: network) } catch { preconditionFailure("genesis key set for \(network): \(error)") }
    }

    /// The active set after a valid Set Keys alert: exactly the alert's keys, in the alert's order, each
    /// marked with the alert's hash. Pure: the caller commits it with the alert row in one transaction.
    public func rotated(by keys: [AlertPublicKey], alertHash: AlertHash) throws(AlertKeyError) -> AlertKeySet {
        try AlertKeySet(keys: keys, network: network, lastUpdateHash: alertHash)
    }

    static let mainnetGenesisHex = [
        "02a1589f2c8e1a4e7cbf28d4d6b676aa2f30811277883211027950e82a83eb2768",
        "03aec1d40f02ac7f6df701ef8f629515812f1bcd949b6aa6c7a8dd778b748b2433",
        "03ddb2806f3cc48aa36bd4aea6b9f1c7ed3ffc8b9302b198ca963f15beff123678",
        "036846e3e8f4f944af644b6a6c6243889dd90d7b6c3593abb9ccf2acb8c9e606e2",
        "03e45c9dd2b34829c1d27c8b5d16917dd0dc2c88fa0d7bad7bffb9b542229a9304",
    ]
    static let testnetGenesisHex = [
        "0203aa8ca16b6b247b109b65e9d7a0f3a23ccae8f093f792e63bf5ce2567f572bc",
        "0289d3a1c6dacd0ee3de7e5a960d8d226ffbdb82b3af41b4c6a01b0230cc6e0dce",
        "0396d8808641463b41fe31b11717294e2e14941454ba6b27967ed571b9848ae768",
        "02aaf9583bd5aa8e5993666e11785ff3b1b0a97694003b22cbd8a2b7150ff27736",
        "02dfb76a88100c2b6cd7ad9c051bc9ef9daf74c9fa13a99cb870865a046a9772f1",
    ]
    /// Public keys of Key1..Key5 in the reference's `utils/keys.go`, whose private keys are public.
    static let publicTestKeyHex = [
        "027276d234a138415c7d8d61e33ea9c625f0d043fd06f1c863464a58ed7939afe1",
        "0254b81f2e1bed83e414970ae7f7e3373014706251efb6990b5292a020e3a1585c",
        "03801e7b4077edad7ebb3fa87ced7b126ae8eb2fbcb75821001f84a0374eea4a21",
        "03df30507f71d1880888e9e7137280397a4235c2904d4c4e995d4292f00a9257b0",
        "03ec55b29332500401336f6e1648d367f4619bedb561fd817d2247d80c4bad236c",
    ]
    /// The reference's public test keys as points; refused as mainnet trust anchors.
    public static let publicTestKeys: Set<AlertPublicKey> = Set(publicTestKeyHex.compactMap { try? AlertPublicKey(hex: $0) })
}
