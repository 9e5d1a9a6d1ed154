/// The Bitcoin SV alert networks the reference ships a configuration for.
public enum AlertNetwork: String, CaseIterable, Sendable {
    case mainnet, testnet, stn, local
}
