/// The genesis alert the reference's `CreateGenesisAlert` writes on every node at start: sequence 0, Set Keys,
/// empty payload, timestamp 2923-11-01T01:01:01Z, signed by the public test keys Key1..Key3 on every network.
/// Every node makes its own, so it is stored as processed and never verified, executed or synced.
public enum GenesisAlert {
    public static let header = AlertHeader(version: 1, sequence: 0, timestamp: 30_100_035_661, type: .setKeys)
    /// The 20 bytes the hash covers (there is no payload).
    public static var data: [UInt8] { header.encoded }
    /// The hash the reference stores for row 0.
    public static var hash: AlertHash { AlertHash(of: data) }
}
