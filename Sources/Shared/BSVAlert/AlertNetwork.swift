/// The Bitcoin SV alert networks the reference ships a configuration for, with the values it ships
/// (`app/config/envs/<network>.json`): sync protocol ID, gossip topic, P2P port, SV Node RPC URL, genesis keys.
public enum AlertNetwork: String, CaseIterable, Sendable {
    case mainnet, testnet, stn, local

    /// The libp2p stream protocol of the sync exchange.
    public var protocolID: String {
        switch self {
        case .mainnet: "/bitcoin/alert-system/1.0.0"
        case .testnet, .local: "/bitcoin-testnet/alert-system/0.0.1"
        case .stn: "/bitcoin-stn/alert-system/0.0.1"
        }
    }

    /// The gossipsub topic alerts are published on.
    public var topic: String {
        switch self {
        case .mainnet: "bitcoin_alert_system"
        case .testnet: "bitcoin_alert_system_testnet"
        case .stn: "bitcoin_alert_system_stn"
        case .local: "alert_system_testnet"
        }
    }

    /// The reference's P2P port on every network (Teranode's default is 9908).
    public var defaultP2PPort: Int { 9906 }

    /// The SV Node JSON-RPC URL the reference's file for this network points at.
    public var defaultNodeRPCURL: String {
        switch self {
        case .mainnet: "http://localhost:8332"
        case .testnet: "http://localhost:18332"
        case .stn: "http://localhost:9332"
        case .local: "http://localhost:8333"
        }
    }

    /// `network` as alerts name it to operators: `Bitcoin SV <mainnet|testnet|stn|local>`.
    public var displayName: String { "Bitcoin SV \(rawValue)" }

    public var genesisKeys: AlertKeySet { AlertKeySet.genesis(self) }

    /// The reference's `ALERT_SYSTEM_ENVIRONMENT` names (case-insensitive): production = mainnet, test = local.
    public init?(referenceEnvironment name: String) {
        switch name.lowercased() {
        case "mainnet", "production": self = .mainnet
        case "testnet": self = .testnet
        case "stn": self = .stn
        case "local", "test": self = .local
        default: return nil
        }
    }
}
