/// Alert-system settings brought from the reference's JSON config (`ALERT_SYSTEM_CONFIG_FILEPATH`), a Teranode
/// settings file (`alert_*` keys), and their environment variables (INTERFACE.md, "Semantics", 12). Pure: the
/// caller maps these onto our options, which win over everything here. Inline secrets are kept for use and
/// named in `inlineSecrets` (so check-config can say to move them to files), never shown by `description`.
public struct ImportedAlertSettings: Hashable, Sendable, CustomStringConvertible {
    /// One SV Node JSON-RPC endpoint. Every entry receives the actions (the reference used only the last one).
    public struct NodeRPCEndpoint: Hashable, Sendable {
        public var url: String
        public var user: String
        public var password: String
    }

    /// Where the alert rows live.
    public enum StoreLocation: Hashable, Sendable {
        /// Teranode's `sqlite:///NAME`: `<state-dir>/NAME.sqlite`.
        case sqliteName(String)
        /// The reference's `datastore.sqlite.database_path`.
        case sqlitePath(String)
        /// The reference's empty `database_path`: an in-memory database (nothing survives a restart).
        case memory
        /// A PostgreSQL or MySQL store, as a URL or engine name.
        case server(String)
    }

    public var network: AlertNetwork?
    public var genesisKeys: [String]?
    public var nodeRPC: [NodeRPCEndpoint] = []
    public var webhookURL: String?
    public var processingInterval: Duration?
    public var p2pListenIP: String?
    public var p2pPort: Int?
    public var protocolID: String?
    public var topic: String?
    /// Hex of a raw 64-byte libp2p Ed25519 key (seed ‖ public), inline. A secret.
    public var p2pPrivateKeyHex: String?
    public var p2pPrivateKeyPath: String?
    public var bootstrapPeers: [String] = []
    public var broadcastIP: String?
    public var allowPrivateAddresses: Bool?
    public var peerDiscoveryInterval: Duration?
    public var store: StoreLocation?
    /// The settings that carried a secret inline (`rpc_connections[0].password`, `p2p.private_key`, …).
    public var inlineSecrets: [String] = []

    public init() {}

    public var description: String {
        var parts: [String] = []
        if let network { parts.append("network=\(network.rawValue)") }
        if let genesisKeys { parts.append("genesis_keys=\(genesisKeys.count)") }
        parts.append(contentsOf: nodeRPC.map { "rpc=\($0.url) user=\($0.user) password=\($0.password.isEmpty ? "(none)" : "(hidden)")" })
        if let webhookURL { parts.append("webhook=\(webhookURL)") }
        if let protocolID { parts.append("protocol_id=\(protocolID)") }
        if let topic { parts.append("topic=\(topic)") }
        if let p2pPort { parts.append("p2p_port=\(p2pPort)") }
        if p2pPrivateKeyHex != nil { parts.append("p2p_private_key=(hidden)") }
        if !inlineSecrets.isEmpty { parts.append("inline secrets: \(inlineSecrets.joined(separator: ", "))") }
        return "ImportedAlertSettings(" + parts.joined(separator: "; ") + ")"
    }

    /// A reference JSON config or a Teranode settings file, told apart by the first character.
    public static func parse(fileContents text: String) throws(AlertSettingsError) -> ImportedAlertSettings {
        if text.trimmingWhitespace.hasPrefix("{") { return try referenceJSON(Array(text.utf8)) }
        return try teranodeSettings(text)
    }

    /// The reference's JSON config (spec §6.2). Empty strings count as absent, as the reference's defaults do.
    public static func referenceJSON(_ bytes: [UInt8]) throws(AlertSettingsError) -> ImportedAlertSettings {
        guard let root = AlertJSON.parse(bytes), case .object = root else { throw .notJSON }
        var settings = ImportedAlertSettings()
        if let name = try root.text("environment") {
            guard let network = AlertNetwork(referenceEnvironment: name) else { throw .invalid(key: "environment", value: name, expected: "mainnet, production, testnet, stn, local or test") }
            settings.network = network
        }
        if let keys = root["genesis_keys"], keys != .null {
            guard case .array(let values) = keys else { throw .invalid(key: "genesis_keys", value: keys.rendered, expected: "a list of hex public keys") }
            settings.genesisKeys = try values.enumerated().map { index, value throws(AlertSettingsError) in
                guard case .string(let key) = value else { throw .invalid(key: "genesis_keys[\(index)]", value: value.rendered, expected: "a hex string") }
                return key
            }
        }
        if case .array(let connections)? = root["rpc_connections"] {
            for (index, connection) in connections.enumerated() {
                guard let url = try connection.text("host") else { throw .invalid(key: "rpc_connections[\(index)].host", value: "", expected: "an http:// URL") }
                let password = try connection.text("password") ?? ""
                if !password.isEmpty { settings.inlineSecrets.append("rpc_connections[\(index)].password") }
                settings.nodeRPC.append(NodeRPCEndpoint(url: url, user: try connection.text("user") ?? "", password: password))
            }
        }
        settings.webhookURL = try root.text("alert_webhook_url")
        if let interval = try root.text("alert_processing_interval") { settings.processingInterval = try goDuration(interval, key: "alert_processing_interval") }
        if let p2p = root["p2p"], p2p != .null {
            settings.p2pListenIP = try p2p.text("ip")
            if let port = try p2p.text("port") { settings.p2pPort = try portNumber(port, key: "p2p.port") }
            settings.protocolID = try p2p.text("alert_system_protocol_id")
            settings.topic = try p2p.text("topic_name")
            settings.p2pPrivateKeyHex = try p2p.text("private_key")
            if settings.p2pPrivateKeyHex != nil { settings.inlineSecrets.append("p2p.private_key") }
            settings.p2pPrivateKeyPath = try p2p.text("private_key_path")
            if let peer = try p2p.text("bootstrap_peer") { settings.bootstrapPeers = [peer] }
            settings.broadcastIP = try p2p.text("broadcast_ip")
            if case .bool(let allow)? = p2p["allow_private_ip_addresses"] { settings.allowPrivateAddresses = allow }
            if let interval = try p2p.text("peer_discovery_interval") { settings.peerDiscoveryInterval = try goDuration(interval, key: "p2p.peer_discovery_interval") }
        }
        if let datastore = root["datastore"], datastore != .null {
            switch try datastore.text("engine") {
            case "sqlite"?:
                let path = try datastore["sqlite"]?.text("database_path")
                settings.store = path.map(StoreLocation.sqlitePath) ?? .memory
            case let engine?:
                settings.store = .server(engine)
            case nil:
                break
            }
            if let password = try datastore.text("password"), !password.isEmpty { settings.inlineSecrets.append("datastore.password") }
        }
        return settings
    }

    /// A Teranode settings file: `key = value` lines, `#` comments; only the `alert_*` keys are read.
    public static func teranodeSettings(_ text: String) throws(AlertSettingsError) -> ImportedAlertSettings {
        var values: [String: String] = [:]
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = String(rawLine).trimmingWhitespace
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            guard let equals = line.firstIndex(of: "=") else { throw .malformedLine(number + 1) }
            let key = trimmed(line[..<equals])
            // `key.context = value` overrides belong to one Teranode context; only the plain key is taken.
            guard key.hasPrefix("alert_"), !key.contains(".") else { continue }
            values[key] = trimmed(line[line.index(after: equals)...])
        }
        var settings = ImportedAlertSettings()
        try settings.applyTeranode(values, source: "settings")
        return settings
    }

    /// Environment variables over these settings: `ALERT_SYSTEM_*` (reference; `.` spelled `__`) and
    /// `TERANODE_ALERT_*`, `ALERT_P2P_PORT` (Teranode). Call only when the alert-system is on.
    public func applyingEnvironment(_ environment: [String: String]) throws(AlertSettingsError) -> ImportedAlertSettings {
        var settings = self
        func value(_ name: String) -> String? {
            guard let value = environment[name].map(trimmed), !value.isEmpty else { return nil }
            return value
        }
        if let name = value("ALERT_SYSTEM_ENVIRONMENT") {
            guard let network = AlertNetwork(referenceEnvironment: name) else { throw .invalid(key: "ALERT_SYSTEM_ENVIRONMENT", value: name, expected: "mainnet, production, testnet, stn, local or test") }
            settings.network = network
        }
        if let keys = value("ALERT_SYSTEM_GENESIS_KEYS") { settings.genesisKeys = keys.split(separator: ",").map(trimmed) }
        if let url = value("ALERT_SYSTEM_ALERT_WEBHOOK_URL") { settings.webhookURL = url }
        if let interval = value("ALERT_SYSTEM_ALERT_PROCESSING_INTERVAL") { settings.processingInterval = try Self.goDuration(interval, key: "ALERT_SYSTEM_ALERT_PROCESSING_INTERVAL") }
        if let ip = value("ALERT_SYSTEM_P2P__IP") { settings.p2pListenIP = ip }
        if let port = value("ALERT_SYSTEM_P2P__PORT") { settings.p2pPort = try Self.portNumber(port, key: "ALERT_SYSTEM_P2P__PORT") }
        if let id = value("ALERT_SYSTEM_P2P__ALERT_SYSTEM_PROTOCOL_ID") { settings.protocolID = id }
        if let topic = value("ALERT_SYSTEM_P2P__TOPIC_NAME") { settings.topic = topic }
        if let key = value("ALERT_SYSTEM_P2P__PRIVATE_KEY") { settings.p2pPrivateKeyHex = key; settings.inlineSecrets.append("ALERT_SYSTEM_P2P__PRIVATE_KEY") }
        if let path = value("ALERT_SYSTEM_P2P__PRIVATE_KEY_PATH") { settings.p2pPrivateKeyPath = path }
        if let peer = value("ALERT_SYSTEM_P2P__BOOTSTRAP_PEER") { settings.bootstrapPeers = [peer] }
        if let ip = value("ALERT_SYSTEM_P2P__BROADCAST_IP") { settings.broadcastIP = ip }
        var teranode: [String: String] = [:]
        for key in ["alert_store", "alert_genesis_keys", "alert_p2p_private_key", "alert_protocol_id", "alert_topic_name", "alert_p2p_port"] {
            if let found = value("TERANODE_" + key.uppercased()) { teranode[key] = found }
        }
        if let port = value("ALERT_P2P_PORT") { teranode["alert_p2p_port"] = port }
        try settings.applyTeranode(teranode, source: "environment")
        return settings
    }

    private mutating func applyTeranode(_ values: [String: String], source: String) throws(AlertSettingsError) {
        if let store = values["alert_store"], !store.isEmpty {
            if store.hasPrefix("sqlite:///") {
                let name = String(store.dropFirst("sqlite:///".count))
                guard !name.isEmpty, !name.contains("/") else { throw .invalid(key: "alert_store", value: store, expected: "sqlite:///NAME or a postgres:// URL") }
                self.store = .sqliteName(name)
            } else {
                self.store = .server(store)
                // A password in the URL's user info (`scheme://user:password@host/…`) is an inline secret.
                let afterScheme = store.firstRange(of: "://").map { store[$0.upperBound...] } ?? store[...]
                if let at = afterScheme.firstIndex(of: "@"), afterScheme[..<at].contains(":") {
                    inlineSecrets.append("alert_store (\(source))")
                }
            }
        }
        if let keys = values["alert_genesis_keys"], !keys.isEmpty { genesisKeys = keys.split(separator: "|").map(trimmed) }
        if let key = values["alert_p2p_private_key"], !key.isEmpty {
            p2pPrivateKeyHex = key
            inlineSecrets.append("alert_p2p_private_key (\(source))")
        }
        if let id = values["alert_protocol_id"], !id.isEmpty { protocolID = id }
        if let topic = values["alert_topic_name"], !topic.isEmpty { self.topic = topic }
        if let port = values["alert_p2p_port"], !port.isEmpty { p2pPort = try Self.portNumber(port, key: "alert_p2p_port") }
    }

    static func portNumber(_ text: String, key: String) throws(AlertSettingsError) -> Int {
        guard let port = Int(text), (1 ... 65535).contains(port) else { throw .invalid(key: key, value: text, expected: "a port number 1-65535") }
        return port
    }

    /// Go's `time.ParseDuration` for the forms configs use: "5m", "60s", "1h30m", "500ms".
    static func goDuration(_ text: String, key: String) throws(AlertSettingsError) -> Duration {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        var rest = Substring(text)
        var milliseconds: Int64 = 0
        guard !rest.isEmpty else { throw .invalid(key: key, value: text, expected: "a duration such as 5m or 90s") }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber }
            guard let amount = Int64(digits) else { throw .invalid(key: key, value: text, expected: "a duration such as 5m or 90s") }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else {
                throw .invalid(key: key, value: text, expected: "a duration such as 5m or 90s")
            }
            rest = rest.dropFirst(unit.0.count)
            let (product, overflow) = amount.multipliedReportingOverflow(by: unit.1)
            guard !overflow else { throw .invalid(key: key, value: text, expected: "a shorter duration") }
            milliseconds += product
        }
        return .milliseconds(milliseconds)
    }
}

private func trimmed(_ text: some StringProtocol) -> String { String(String(text).trimmingWhitespace) }

extension AlertJSON {
    /// A string member; nil when absent, null or empty. Another type is an error naming the key.
    fileprivate func text(_ key: String) throws(AlertSettingsError) -> String? {
        switch self[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value.isEmpty ? nil : value
        case let other?: throw .invalid(key: key, value: other.rendered, expected: "a string")
        }
    }
}

/// Why an imported settings file or variable cannot be used (exit 78, bad configuration).
public enum AlertSettingsError: Error, Equatable, Sendable, CustomStringConvertible {
    case notJSON
    case malformedLine(Int)
    case invalid(key: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .notJSON: "the alert-system config is not a JSON object (the reference's format) nor a Teranode settings file"
        case .malformedLine(let line): "Teranode settings line \(line) is not `key = value`"
        case .invalid(let key, let value, let expected): "\(key) = \(value.prefix(80)): expected \(expected)"
        }
    }
}
