import Wire
import SubstratePrimitives
/// The resolved configuration every process runs with (command line > environment > TOML file > default).
public struct Configuration: Sendable, Equatable {
    public var nodeRPCURLs: [String]
    public var name: String
    public var icon: String
    public var production: Bool
    public var slack: Bool
    public var slackSecretPath: String
    public var slackAPIURL: String
    public var slackChannel: String
    public var slackProductionChannel: String
    public var uptimeKumaURLs: [String]
    public var webhookURLs: [String]
    public var alertLimit: Int?
    public var testStartup: Bool
    public var configFile: String?
    public var store: StoreLocation
    public var stateDirectory: String
    public var httpListen: ListenAddress
    public var alerts: AlertThresholds
    public var importantAddresses: [ImportantAddress]
    public var networks: [NetworkDefinition]

    /// The primary node: the first `--node-rpc-url`.
    public var primaryNode: String { nodeRPCURLs[0] }
    /// ipc:// endpoint of the supervisor's control socket under the state directory.
    public var controlEndpoint: String { BusEndpoints.control(stateDirectory: stateDirectory) }
}

/// Where alert rows, cursors and delivery state live.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case sqliteFile(path: String)
    case sqliteMemory(name: String)
    case postgres(url: String)

    /// Printable form with any password replaced by `***`.
    public var description: String {
        switch self {
        case .sqliteFile(let path): return "sqlite://\(path.hasPrefix("/") ? "" : "/")\(path)"
        case .sqliteMemory(let name): return "sqlitememory:///\(name)"
        case .postgres(let url): return Redaction.redactUserInfoPassword(url)
        }
    }
}

/// A HOST:PORT to listen on.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// Alert thresholds (`[alerts]`); defaults are the original alerter's.
public struct AlertThresholds: Sendable, Equatable {
    public var blockStall: Duration = .seconds(65)
    public var blockResume: Duration = .seconds(55)
    public var chainTimeGap: Duration = .seconds(55)
    /// Whole tokens; compared against 10^decimals base units.
    public var largeTransfer: String = "1000000"
    public var forkAlertDepth = 6
    public var sideForkRealertEvery = 10
    public var backwardsReorgDepth = 3
    public var slotWindow = 100
    public var slotSlowRatio = 1.10
    public var slotFastRatio = 0.94
    public var farmerWindow = 100
    public var farmerHistory = 1000
    public var farmerDecreaseFraction = 0.33
    public var farmerIncreaseFraction = 3.0
    public var startupContextBlocks = 1000
    public var nodeLagIsolate = 10
    /// RPC latency that, sustained, isolates a node (`node_latency_isolate`).
    public var nodeLatencyIsolate: Duration = .seconds(5)
    /// How long an automatically isolated node must be caught up and fast before it is restored (`node_recover_after`).
    public var nodeRecoverAfter: Duration = .seconds(30)

    public init() {}
}

/// An address whose activity always alerts (`[[important_addresses]]`).
public struct ImportantAddress: Sendable, Equatable {
    public var name: String
    /// SS58 or 0x-hex, as written by the user.
    public var address: String
}

/// A user-supplied network definition (`[[networks]]`) that overrides or extends the bundled networks file.
public struct NetworkDefinition: Sendable, Equatable {
    public var name: String
    public var genesisHash: String?
    public var tokenSymbol: String?
    public var decimals: Int?
    public var ss58Prefix: Int?
    public var explorerURL: String?
}

/// Hiding secrets that travel inside URLs and connection strings.
public enum Redaction {
    /// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
    public static func redactUserInfoPassword(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return url }
        let userInfo = rest[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<schemeEnd.upperBound]) + userInfo[..<colon] + ":***" + rest[at...]
    }

    /// Webhook and push URLs carry their token in the path or query: keep only scheme, host and port.
    public static func redactURLPath(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "***" }
        let rest = url[schemeEnd.upperBound...]
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<hostEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let hidden = hostEnd == rest.endIndex ? "" : "/***"
        return String(url[..<schemeEnd.upperBound]) + authority + hidden
    }
}
