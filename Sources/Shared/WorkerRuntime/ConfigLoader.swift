import Foundation
import TOMLKit
import Wire
import SubstratePrimitives

/// Resolves `Configuration` from the command line, `CHAIN_ALERTER_*` environment variables and the TOML
/// file, in that order of precedence, and validates every value. Each failure names the option and the fix.
public enum ConfigLoader {
    /// The keys that may appear at the top level of the TOML file, one per command-line option.
    /// The TOML key is the option name with dashes as underscores; the environment variable is
    /// `CHAIN_ALERTER_` + that key in upper case.
    static let optionKeys: [String: OptionKind] = [
        "node_rpc_url": .list, "name": .text, "icon": .text, "production": .flag, "slack": .flag,
        "slack_secret_path": .text, "slack_api_url": .text, "slack_channel": .text,
        "slack_production_channel": .text, "uptime_kuma_url": .list, "webhook_url": .list,
        "alert_limit": .number, "test_startup": .flag, "store": .text, "state_dir": .text, "http_listen": .text,
    ]
    static let sectionKeys: Set<String> = ["alerts", "important_addresses", "networks"]

    enum OptionKind { case text, list, flag, number }

    enum RawValue: Equatable {
        case text(String), list([String]), flag(Bool), number(Int)
    }

    /// Why a worker stops before it starts: the message for stderr and the exit code (78 for bad
    /// configuration, 0 for `--help`).
    public struct StartFailure: Error, Sendable {
        public var message: String
        public var code: Int32
    }

    /// A worker's start-up: parses its command line and resolves the configuration.
    public static func resolve(arguments: [String], environment: [String: String]) -> Result<Configuration, StartFailure> {
        do {
            let options = try ChainAlerterOptions.parse(arguments)
            return .success(try resolve(options: options, environment: environment))
        } catch let error as ConfigError {
            return .failure(StartFailure(message: error.description, code: ConfigError.exitCode))
        } catch {
            let code = ChainAlerterOptions.exitCode(for: error).rawValue
            return .failure(StartFailure(message: ChainAlerterOptions.fullMessage(for: error), code: code == 0 ? 0 : ConfigError.exitCode))
        }
    }

    /// Resolves and validates. `workingDirectory` anchors relative paths (defaults to the process's).
    public static func resolve(options: ChainAlerterOptions, environment: [String: String],
                               workingDirectory: String = FileManager.default.currentDirectoryPath) throws(ConfigError) -> Configuration {
        let cli = commandLineLayer(options)
        let env = try environmentLayer(environment)
        let configPath: String? = options.config ?? environment["CHAIN_ALERTER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        var file = FileLayer()
        if let configPath {
            file = try loadFile(absolute(configPath, in: workingDirectory))
        }
        func value(_ key: String) -> RawValue? { cli[key] ?? env[key] ?? file.options[key] }
        func text(_ key: String) -> String? { if case .text(let s) = value(key) { return s }; return nil }
        func list(_ key: String) -> [String]? { if case .list(let l) = value(key) { return l }; return nil }
        func flag(_ key: String) -> Bool? { if case .flag(let b) = value(key) { return b }; return nil }
        func number(_ key: String) -> Int? { if case .number(let n) = value(key) { return n }; return nil }

        let nodes = list("node_rpc_url") ?? ["ws://127.0.0.1:9944"]
        guard !nodes.isEmpty else {
            throw ConfigError(option: "--node-rpc-url", problem: "no node given", fix: "pass at least one --node-rpc-url ws://HOST:PORT")
        }
        for url in nodes { try checkURL(url, option: "--node-rpc-url", schemes: ["ws", "wss"]) }
        if Set(nodes).count != nodes.count {
            throw ConfigError(option: "--node-rpc-url", problem: "the same node is given twice", fix: "list each node once")
        }

        let name = text("name") ?? "Dev"
        if name.isEmpty || name.contains(where: \.isNewline) {
            throw ConfigError(option: "--name", problem: "the instance name must be one non-empty line", fix: "pass e.g. --name Mainnet")
        }
        var icon = text("icon") ?? "robot_face"
        icon = icon.trimmingCharacters(in: CharacterSet(charactersIn: ":"))
        if icon.isEmpty || !icon.allSatisfy({ $0.isLetter || $0.isNumber || "_+-".contains($0) }) {
            throw ConfigError(option: "--icon", problem: "'\(icon)' is not a Slack emoji short name", fix: "pass a short name such as robot_face, without colons")
        }

        let slack = flag("slack") ?? true
        let explicitSecret = text("slack_secret_path")
        var secretPath = explicitSecret ?? "slack-secret"
        if explicitSecret == nil, let credentials = environment["CREDENTIALS_DIRECTORY"], !credentials.isEmpty,
           FileManager.default.fileExists(atPath: credentials + "/slack-secret") {
            // systemd LoadCredential=slack-secret:… places the token here.
            secretPath = credentials + "/slack-secret"
        }
        secretPath = absolute(secretPath, in: workingDirectory)
        if slack {
            try SecretFile.validate(path: secretPath, option: "--slack-secret-path")
        }

        var slackAPI = text("slack_api_url") ?? "https://slack.com/api/"
        try checkURL(slackAPI, option: "--slack-api-url", schemes: ["http", "https"])
        if !slackAPI.hasSuffix("/") { slackAPI += "/" }
        let channel = try channelName(text("slack_channel") ?? "chain-alerts-test", option: "--slack-channel")
        let prodChannel = try channelName(text("slack_production_channel") ?? "chain-alerts", option: "--slack-production-channel")

        let kuma = list("uptime_kuma_url") ?? []
        for url in kuma { try checkURL(url, option: "--uptime-kuma-url", schemes: ["http", "https"]) }
        let hooks = list("webhook_url") ?? []
        for url in hooks { try checkURL(url, option: "--webhook-url", schemes: ["http", "https"]) }

        let alertLimit = number("alert_limit")
        if let alertLimit, alertLimit < 0 {
            throw ConfigError(option: "--alert-limit", problem: "\(alertLimit) is negative", fix: "pass 0 or a positive number")
        }

        var stateDir = text("state_dir")
            ?? environment["STATE_DIRECTORY"].flatMap { $0.split(separator: ":").first.map(String.init) }
            ?? "state"
        stateDir = absolute(stateDir, in: workingDirectory)
        // sockaddr_un.sun_path holds 108 bytes including the terminator.
        if BusEndpoints.longestPathLength(stateDirectory: stateDir) > BusEndpoints.maxIPCPathLength {
            throw ConfigError(option: "--state-dir", problem: "'\(stateDir)' is too long for a unix socket path (at most ~90 characters)",
                              fix: "choose a shorter state directory, e.g. /var/lib/chain-alerter")
        }
        let store = try storeLocation(text("store") ?? "sqlite:///\(stateDir)/chain-alerter.sqlite", workingDirectory: workingDirectory)
        let listen = try listenAddress(text("http_listen") ?? "127.0.0.1:9616")

        return Configuration(
            nodeRPCURLs: nodes, name: name, icon: icon, production: flag("production") ?? false, slack: slack,
            slackSecretPath: secretPath, slackAPIURL: slackAPI, slackChannel: channel, slackProductionChannel: prodChannel,
            uptimeKumaURLs: kuma, webhookURLs: hooks, alertLimit: alertLimit, testStartup: flag("test_startup") ?? false,
            configFile: configPath.map { absolute($0, in: workingDirectory) }, store: store, stateDirectory: stateDir,
            httpListen: listen, alerts: file.alerts, importantAddresses: file.importantAddresses, networks: file.networks)
    }

    // MARK: layers

    static func commandLineLayer(_ o: ChainAlerterOptions) -> [String: RawValue] {
        var layer: [String: RawValue] = [:]
        if !o.nodeRPCURL.isEmpty { layer["node_rpc_url"] = .list(o.nodeRPCURL) }
        if let v = o.name { layer["name"] = .text(v) }
        if let v = o.icon { layer["icon"] = .text(v) }
        if o.production { layer["production"] = .flag(true) }
        if let v = o.slack { layer["slack"] = .flag(v) }
        if let v = o.slackSecretPath { layer["slack_secret_path"] = .text(v) }
        if let v = o.slackAPIURL { layer["slack_api_url"] = .text(v) }
        if let v = o.slackChannel { layer["slack_channel"] = .text(v) }
        if let v = o.slackProductionChannel { layer["slack_production_channel"] = .text(v) }
        if !o.uptimeKumaURL.isEmpty { layer["uptime_kuma_url"] = .list(o.uptimeKumaURL) }
        if !o.webhookURL.isEmpty { layer["webhook_url"] = .list(o.webhookURL) }
        if let v = o.alertLimit { layer["alert_limit"] = .number(v) }
        if o.testStartup { layer["test_startup"] = .flag(true) }
        if let v = o.store { layer["store"] = .text(v) }
        if let v = o.stateDir { layer["state_dir"] = .text(v) }
        if let v = o.httpListen { layer["http_listen"] = .text(v) }
        return layer
    }

    static func environmentLayer(_ environment: [String: String]) throws(ConfigError) -> [String: RawValue] {
        var layer: [String: RawValue] = [:]
        for (key, kind) in optionKeys {
            let variable = "CHAIN_ALERTER_" + key.uppercased()
            guard let raw = environment[variable] else { continue }
            switch kind {
            case .text:
                layer[key] = .text(raw)
            case .list:
                // Several values are separated by commas or whitespace (URLs contain neither).
                let items = raw.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
                layer[key] = .list(items)
            case .flag:
                guard let b = parseBool(raw) else {
                    throw ConfigError(option: variable, problem: "'\(raw)' is not a boolean", fix: "set it to true or false")
                }
                layer[key] = .flag(b)
            case .number:
                guard let n = Int(raw.trimmingCharacters(in: .whitespaces)) else {
                    throw ConfigError(option: variable, problem: "'\(raw)' is not a whole number", fix: "set it to a whole number")
                }
                layer[key] = .number(n)
            }
        }
        return layer
    }

    struct FileLayer {
        var options: [String: RawValue] = [:]
        var alerts = AlertThresholds()
        var importantAddresses: [ImportantAddress] = []
        var networks: [NetworkDefinition] = []
    }

    static func loadFile(_ path: String) throws(ConfigError) -> FileLayer {
        let option = "--config"
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(option: option, problem: "cannot read '\(path)'", fix: "check the path and that the file is readable UTF-8 text")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(option: option, problem: "'\(path)' is not valid TOML: \(error.description) at line \(error.source.begin.line), column \(error.source.begin.column)",
                              fix: "correct the TOML syntax at that position")
        } catch {
            throw ConfigError(option: option, problem: "'\(path)' is not valid TOML", fix: "correct the TOML syntax")
        }
        var layer = FileLayer()
        for rawKey in table.keys.sorted() {
            let key = rawKey.replacingOccurrences(of: "-", with: "_")
            guard let value = table[rawKey] else { continue }
            let where_ = "\(path): \(rawKey)"
            if let kind = optionKeys[key] {
                if layer.options[key] != nil {
                    throw ConfigError(option: where_, problem: "given twice (with dashes and with underscores)", fix: "keep one")
                }
                layer.options[key] = try fileValue(value, kind: kind, where_: where_)
            } else if key == "alerts" {
                guard let section = value.table else {
                    throw ConfigError(option: where_, problem: "must be a table", fix: "write it as [alerts]")
                }
                layer.alerts = try thresholds(section, path: path)
            } else if key == "important_addresses" {
                layer.importantAddresses = try importantAddresses(value, path: path)
            } else if key == "networks" {
                layer.networks = try networks(value, path: path)
            } else {
                throw ConfigError(option: where_, problem: "unknown key '\(rawKey)'",
                                  fix: "remove it; known keys are \((optionKeys.keys.sorted() + sectionKeys.sorted()).joined(separator: ", "))")
            }
        }
        return layer
    }

    static func fileValue(_ value: TOMLValueConvertible, kind: OptionKind, where_: String) throws(ConfigError) -> RawValue {
        switch kind {
        case .text:
            guard let s = value.string else { throw ConfigError(option: where_, problem: "must be a string", fix: "quote the value") }
            return .text(s)
        case .list:
            if let s = value.string { return .list([s]) }
            guard let array = value.array else { throw ConfigError(option: where_, problem: "must be a string or an array of strings", fix: "write [\"…\", \"…\"]") }
            var items: [String] = []
            for element in array {
                guard let s = element.string else { throw ConfigError(option: where_, problem: "every element must be a string", fix: "quote each element") }
                items.append(s)
            }
            return .list(items)
        case .flag:
            guard let b = value.bool else { throw ConfigError(option: where_, problem: "must be true or false", fix: "write true or false without quotes") }
            return .flag(b)
        case .number:
            guard let n = value.int else { throw ConfigError(option: where_, problem: "must be a whole number", fix: "write a number without quotes") }
            return .number(n)
        }
    }

    static func thresholds(_ table: TOMLTable, path: String) throws(ConfigError) -> AlertThresholds {
        var t = AlertThresholds()
        for key in table.keys.sorted() {
            guard let value = table[key] else { continue }
            let where_ = "\(path): alerts.\(key)"
            func int(min: Int = 1) throws(ConfigError) -> Int {
                guard let n = value.int else { throw ConfigError(option: where_, problem: "must be a whole number", fix: "write a number without quotes") }
                guard n >= min else { throw ConfigError(option: where_, problem: "\(n) is below \(min)", fix: "use a value of at least \(min)") }
                return n
            }
            func ratio() throws(ConfigError) -> Double {
                guard let d = value.double ?? value.int.map(Double.init), d > 0, d.isFinite else {
                    throw ConfigError(option: where_, problem: "must be a positive number", fix: "write e.g. 1.10")
                }
                return d
            }
            func duration() throws(ConfigError) -> Duration {
                guard let s = value.string, let d = parseDuration(s), d > .zero else {
                    throw ConfigError(option: where_, problem: "must be a positive duration string", fix: "write e.g. \"65s\", \"2m\" or \"1500ms\"")
                }
                return d
            }
            switch key.replacingOccurrences(of: "-", with: "_") {
            case "block_stall": t.blockStall = try duration()
            case "block_resume": t.blockResume = try duration()
            case "chain_time_gap": t.chainTimeGap = try duration()
            case "large_transfer":
                let s = value.string ?? value.int.map(String.init) ?? ""
                guard !s.isEmpty, s.allSatisfy(\.isASCII), s.allSatisfy(\.isNumber) else {
                    throw ConfigError(option: where_, problem: "must be a whole number of tokens", fix: "write e.g. \"1000000\"")
                }
                t.largeTransfer = s
            case "fork_alert_depth": t.forkAlertDepth = try int()
            case "side_fork_realert_every": t.sideForkRealertEvery = try int()
            case "backwards_reorg_depth": t.backwardsReorgDepth = try int()
            case "slot_window": t.slotWindow = try int(min: 2)
            case "slot_slow_ratio": t.slotSlowRatio = try ratio()
            case "slot_fast_ratio": t.slotFastRatio = try ratio()
            case "farmer_window": t.farmerWindow = try int()
            case "farmer_history": t.farmerHistory = try int()
            case "farmer_decrease_fraction": t.farmerDecreaseFraction = try ratio()
            case "farmer_increase_fraction": t.farmerIncreaseFraction = try ratio()
            case "startup_context_blocks": t.startupContextBlocks = try int(min: 0)
            case "node_lag_isolate": t.nodeLagIsolate = try int()
            case "node_latency_isolate": t.nodeLatencyIsolate = try duration()
            case "node_recover_after": t.nodeRecoverAfter = try duration()
            default:
                throw ConfigError(option: where_, problem: "unknown threshold '\(key)'", fix: "see docs/INTERFACE.md for the [alerts] keys")
            }
        }
        if t.slotFastRatio >= t.slotSlowRatio {
            throw ConfigError(option: "\(path): alerts.slot_fast_ratio", problem: "must be below slot_slow_ratio", fix: "e.g. slot_fast_ratio = 0.94, slot_slow_ratio = 1.10")
        }
        return t
    }

    static func importantAddresses(_ value: TOMLValueConvertible, path: String) throws(ConfigError) -> [ImportantAddress] {
        let where_ = "\(path): important_addresses"
        guard let array = value.array else { throw ConfigError(option: where_, problem: "must be an array of tables", fix: "write [[important_addresses]] sections") }
        var result: [ImportantAddress] = []
        for (i, element) in array.enumerated() {
            guard let entry = element.table else { throw ConfigError(option: "\(where_)[\(i)]", problem: "must be a table", fix: "write [[important_addresses]] with name and address") }
            for key in entry.keys where key != "name" && key != "address" {
                throw ConfigError(option: "\(where_)[\(i)].\(key)", problem: "unknown key", fix: "only name and address are allowed")
            }
            guard let name = entry["name"]?.string, !name.isEmpty else {
                throw ConfigError(option: "\(where_)[\(i)].name", problem: "missing", fix: "give each important address a name")
            }
            guard let address = entry["address"]?.string, isPlausibleAddress(address) else {
                throw ConfigError(option: "\(where_)[\(i)].address", problem: "missing or not an SS58 / 0x-hex account", fix: "write the SS58 address or 0x followed by 64 hex digits")
            }
            result.append(ImportantAddress(name: name, address: address))
        }
        return result
    }

    static func networks(_ value: TOMLValueConvertible, path: String) throws(ConfigError) -> [NetworkDefinition] {
        let where_ = "\(path): networks"
        guard let array = value.array else { throw ConfigError(option: where_, problem: "must be an array of tables", fix: "write [[networks]] sections") }
        let allowed: Set<String> = ["name", "genesis_hash", "token_symbol", "decimals", "ss58_prefix", "explorer_url"]
        var result: [NetworkDefinition] = []
        for (i, element) in array.enumerated() {
            guard let entry = element.table else { throw ConfigError(option: "\(where_)[\(i)]", problem: "must be a table", fix: "write [[networks]] sections") }
            for key in entry.keys where !allowed.contains(key) {
                throw ConfigError(option: "\(where_)[\(i)].\(key)", problem: "unknown key", fix: "allowed: \(allowed.sorted().joined(separator: ", "))")
            }
            guard let name = entry["name"]?.string, !name.isEmpty else {
                throw ConfigError(option: "\(where_)[\(i)].name", problem: "missing", fix: "give each network its system_chain name")
            }
            let genesis = entry["genesis_hash"]?.string
            if let genesis, !isHex32(genesis) {
                throw ConfigError(option: "\(where_)[\(i)].genesis_hash", problem: "not 0x followed by 64 hex digits", fix: "copy the genesis hash from chain_getBlockHash(0)")
            }
            if let explorer = entry["explorer_url"]?.string {
                try checkURL(explorer, option: "\(where_)[\(i)].explorer_url", schemes: ["http", "https"])
            }
            result.append(NetworkDefinition(name: name, genesisHash: genesis, tokenSymbol: entry["token_symbol"]?.string,
                                            decimals: entry["decimals"]?.int, ss58Prefix: entry["ss58_prefix"]?.int,
                                            explorerURL: entry["explorer_url"]?.string))
        }
        return result
    }

    // MARK: value checks

    static func parseBool(_ raw: String) -> Bool? {
        switch raw.lowercased().trimmingCharacters(in: .whitespaces) {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: return nil
        }
    }

    /// "65s", "1m30s", "1500ms", "2h".
    public static func parseDuration(_ raw: String) -> Duration? {
        var total = Duration.zero
        var digits = ""
        var unit = ""
        var any = false
        func flush() -> Bool {
            guard let n = Int64(digits) else { return false }
            switch unit {
            case "ms": total += .milliseconds(n)
            case "s": total += .seconds(n)
            case "m": total += .seconds(n * 60)
            case "h": total += .seconds(n * 3600)
            default: return false
            }
            digits = ""; unit = ""; any = true
            return true
        }
        for c in raw.trimmingCharacters(in: .whitespaces) {
            if c.isASCII && c.isNumber {
                if !unit.isEmpty { guard flush() else { return nil } }
                digits.append(c)
            } else if c.isLetter {
                guard !digits.isEmpty else { return nil }
                unit.append(c)
            } else {
                return nil
            }
        }
        if !digits.isEmpty || !unit.isEmpty { guard flush() else { return nil } }
        return any ? total : nil
    }

    static func checkURL(_ url: String, option: String, schemes: Set<String>) throws(ConfigError) {
        let shown = schemes.contains("ws") ? url : Redaction.redactURLPath(url)
        // `encodedHost`, not `host`: the decoded host goes through ICU's IDNA, which maps half a megabyte
        // of Unicode tables into every process that only wanted to know that there is a host.
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.encodedHost, !host.isEmpty else {
            throw ConfigError(option: option, problem: "'\(shown)' is not a valid URL", fix: "write it as \(schemes.sorted().first!)://HOST[:PORT]/…")
        }
        guard schemes.contains(scheme) else {
            throw ConfigError(option: option, problem: "'\(shown)' uses the scheme '\(scheme)'", fix: "use \(schemes.sorted().map { $0 + "://" }.joined(separator: " or "))")
        }
        if let port = components.port, !(1 ... 65535).contains(port) {
            throw ConfigError(option: option, problem: "'\(shown)' has port \(port)", fix: "use a port from 1 to 65535")
        }
    }

    static func channelName(_ raw: String, option: String) throws(ConfigError) -> String {
        let name = raw.hasPrefix("#") ? String(raw.dropFirst()) : raw
        guard !name.isEmpty, name.count <= 80, name.allSatisfy({ $0.isLowercase || $0.isNumber || "-_.".contains($0) }) else {
            throw ConfigError(option: option, problem: "'\(raw)' is not a Slack channel name", fix: "use lower-case letters, digits, - and _, e.g. chain-alerts")
        }
        return name
    }

    static func storeLocation(_ raw: String, workingDirectory: String) throws(ConfigError) -> StoreLocation {
        if raw.hasPrefix("sqlite://") {
            let path = String(raw.dropFirst("sqlite://".count))
            guard !path.isEmpty, path != "/" else {
                throw ConfigError(option: "--store", problem: "no database path in '\(raw)'", fix: "write sqlite:///ABSOLUTE/PATH.sqlite")
            }
            return .sqliteFile(path: absolute(path, in: workingDirectory))
        }
        if raw.hasPrefix("sqlitememory:///") {
            let name = String(raw.dropFirst("sqlitememory:///".count))
            guard !name.isEmpty else { throw ConfigError(option: "--store", problem: "no name in '\(raw)'", fix: "write sqlitememory:///NAME") }
            return .sqliteMemory(name: name)
        }
        if raw.hasPrefix("postgres://") || raw.hasPrefix("postgresql://") {
            guard let c = URLComponents(string: raw), let host = c.encodedHost, !host.isEmpty, c.path.count > 1 else {
                throw ConfigError(option: "--store", problem: "'\(Redaction.redactUserInfoPassword(raw))' is not a valid PostgreSQL URL",
                                  fix: "write postgres://USER:PASSWORD@HOST:PORT/DATABASE")
            }
            return .postgres(url: raw)
        }
        throw ConfigError(option: "--store", problem: "'\(Redaction.redactUserInfoPassword(raw))' has an unknown scheme",
                          fix: "use sqlite:///PATH, sqlitememory:///NAME or postgres://USER:PASSWORD@HOST:PORT/DB")
    }

    static func listenAddress(_ raw: String) throws(ConfigError) -> ListenAddress {
        let bad = ConfigError(option: "--http-listen", problem: "'\(raw)' is not HOST:PORT", fix: "write e.g. 127.0.0.1:9616 or [::1]:9616")
        var host: Substring
        var portText: Substring
        if raw.hasPrefix("[") {
            guard let close = raw.firstIndex(of: "]"), raw[raw.index(after: close)...].hasPrefix(":") else { throw bad }
            host = raw[raw.index(after: raw.startIndex) ..< close]
            portText = raw[raw.index(close, offsetBy: 2)...]
        } else {
            guard let colon = raw.lastIndex(of: ":") else { throw bad }
            host = raw[..<colon]
            portText = raw[raw.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0 ... 65535).contains(port) else { throw bad }
        return ListenAddress(host: String(host), port: port)
    }

    static func isHex32(_ s: String) -> Bool {
        s.hasPrefix("0x") && s.count == 66 && s.dropFirst(2).allSatisfy(\.isHexDigit)
    }

    static func isPlausibleAddress(_ s: String) -> Bool {
        if s.hasPrefix("0x") { return isHex32(s) }
        let alphabet = Set("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
        return (40 ... 60).contains(s.count) && s.allSatisfy { alphabet.contains($0) }
    }

    static func absolute(_ path: String, in directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : (directory.hasSuffix("/") ? directory + path : directory + "/" + path)
        return URL(fileURLWithPath: joined).standardizedFileURL.path
    }
}
