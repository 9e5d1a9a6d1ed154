import Foundation
import TOMLKit
import SubstrateRuntime
import SubstratePrimitives
import Store
import Wire
import WorkerRuntime

/// The networks chain-alerter knows out of the box. It is TOML so that operators can read it (and copy an entry
/// into their own config's `[[networks]]` to override it); it is embedded because an installed executable
/// cannot reliably find data files next to itself.
///
/// Keys: `name` (the `system_chain` name, also the `network` shown in alerts), `genesis_hash`, `chain_names`
/// (other `system_chain` spellings), `token_symbol`, `decimals`, `ss58_prefix`, `explorer_url` (Subscan base),
/// `[networks.thresholds]` (any `[alerts]` key of docs/INTERFACE.md) and `[[networks.important_addresses]]`.
let bundledNetworksTOML = #"""
[[networks]]
name = "Autonomys Mainnet"
# Genesis hash of the Autonomys mainnet (chain_getBlockHash(0)); the chain name matches it as well.
genesis_hash = "0x66455a580aabff303720aa83adbe6c44502922251c03ba73686d5245da9e21bd"
chain_names = ["Autonomys Mainnet", "Autonomys Mainnet Beta"]
token_symbol = "AI3"
decimals = 18
ss58_prefix = 6094
explorer_url = "https://autonomys.subscan.io"

[networks.thresholds]
large_transfer = "1000000"

# Spec §1.4: the original alerter's hard-coded important addresses, in its lookup order.
[[networks.important_addresses]]
name = "Investors"
address = "sucGPHK3b4REe2DNRvNaUrmcoXVDDZVasm7zBNtev4zUpLrp4"
[[networks.important_addresses]]
name = "Subspace Foundation Long-Term Treasury"
address = "sugc77Zny6kg9X4mCs1pe2aunLSb1UcUrDokDLp1ho2FUE6wj"
[[networks.important_addresses]]
name = "Team (Founders + Staff)"
address = "suc7ykog1bVpzUAFCHDsobCtmtcVEXjTpPNJ7vEHGmcZA13kd"
[[networks.important_addresses]]
name = "Subspace Foundation Near-Term Treasury"
address = "sudqduciRx3fZcNRbW1mmmBAntuZLkwhcXyVctsGJyrjRTPaA"
[[networks.important_addresses]]
name = "DevCo Treasury"
address = "sucVFW97RnRYzXE1hncq4Q6E3ygxVv4Ap8KvcWMCEfF4QZwGY"
[[networks.important_addresses]]
name = "Advisors"
address = "sudUExCScaD4JEk3iALh69PFPUJcmu4ziwBByGiGnMgr1ouj5"
[[networks.important_addresses]]
name = "Market Liquidity"
address = "subTKWVig3CiwwnPfKccXZHQKwnE36vNHfNTEUx3yYja4UNR9"
[[networks.important_addresses]]
name = "Vendors"
address = "sugKyc3Qs9WWqeT2vVynQsnQukTrfGwofg8FdrtTPprQCUXS7"
[[networks.important_addresses]]
name = "Ambassadors"
address = "sufqKMnmLekD1NA8smBMLei7cZvvaHLpEXkExdsoi97ezCEtY"
[[networks.important_addresses]]
name = "Operations"
address = "suesYE9yAqNJrMiZPY4hKNMjMTXBkkD1rHgQrSNes1bUnw37U"
[[networks.important_addresses]]
name = "Game of Domains"
address = "sueCdBhsNJ9LH76wYyJYhK8fvcvYt1q3J3AwWq674rwPEvbKS"
[[networks.important_addresses]]
name = "Guardians of Growth"
address = "sugQzjjyAfhzktFDdAkZrcTq5qzMaRoSV2qs1gTcjjuBeybWT"
[[networks.important_addresses]]
name = "Sudo"
address = "subKQqsYRyVkugvKQqLXEuhsefa9728PBAqtwxpeM5N4VD6mv"

[[networks]]
name = "Autonomys Chronos Testnet"
genesis_hash = "0x91912b429ce7bf2975440a0920b46a892fddeeaed6ccc11c93f2d57ad1bd69ab"
chain_names = ["Autonomys Chronos Testnet", "Autonomys Chronos"]
token_symbol = "AI3"  # as in the conformance chain.json
decimals = 18
ss58_prefix = 6094
explorer_url = "https://autonomys-chronos.subscan.io"

[[networks]]
name = "Autonomys Gemini 3h"
genesis_hash = "0x0c121c75f4ef450f40619e1fca9d1e8e7fbabc42c895bc4790801e85d5a91c34"
chain_names = ["Subspace Gemini 3h", "Autonomys Gemini 3h"]
token_symbol = "tSSC"
decimals = 18
ss58_prefix = 2254
explorer_url = "https://subspace.subscan.io"

[[networks]]
# The simulated node of `supervisor demo` and the tests (detected by its system_chain name; its genesis
# changes with every start). It simulates mainnet accounts, so it carries Mainnet's important addresses.
name = "Autonomys Devnode"
chain_names = ["Autonomys Devnode"]
token_symbol = "AI3"
decimals = 18
ss58_prefix = 6094
explorer_url = "https://autonomys.subscan.io"

[[networks.important_addresses]]
name = "Investors"
address = "sucGPHK3b4REe2DNRvNaUrmcoXVDDZVasm7zBNtev4zUpLrp4"
[[networks.important_addresses]]
name = "Subspace Foundation Long-Term Treasury"
address = "sugc77Zny6kg9X4mCs1pe2aunLSb1UcUrDokDLp1ho2FUE6wj"
[[networks.important_addresses]]
name = "Team (Founders + Staff)"
address = "suc7ykog1bVpzUAFCHDsobCtmtcVEXjTpPNJ7vEHGmcZA13kd"
[[networks.important_addresses]]
name = "Subspace Foundation Near-Term Treasury"
address = "sudqduciRx3fZcNRbW1mmmBAntuZLkwhcXyVctsGJyrjRTPaA"
[[networks.important_addresses]]
name = "DevCo Treasury"
address = "sucVFW97RnRYzXE1hncq4Q6E3ygxVv4Ap8KvcWMCEfF4QZwGY"
[[networks.important_addresses]]
name = "Advisors"
address = "sudUExCScaD4JEk3iALh69PFPUJcmu4ziwBByGiGnMgr1ouj5"
[[networks.important_addresses]]
name = "Market Liquidity"
address = "subTKWVig3CiwwnPfKccXZHQKwnE36vNHfNTEUx3yYja4UNR9"
[[networks.important_addresses]]
name = "Vendors"
address = "sugKyc3Qs9WWqeT2vVynQsnQukTrfGwofg8FdrtTPprQCUXS7"
[[networks.important_addresses]]
name = "Ambassadors"
address = "sufqKMnmLekD1NA8smBMLei7cZvvaHLpEXkExdsoi97ezCEtY"
[[networks.important_addresses]]
name = "Operations"
address = "suesYE9yAqNJrMiZPY4hKNMjMTXBkkD1rHgQrSNes1bUnw37U"
[[networks.important_addresses]]
name = "Game of Domains"
address = "sueCdBhsNJ9LH76wYyJYhK8fvcvYt1q3J3AwWq674rwPEvbKS"
[[networks.important_addresses]]
name = "Guardians of Growth"
address = "sugQzjjyAfhzktFDdAkZrcTq5qzMaRoSV2qs1gTcjjuBeybWT"
[[networks.important_addresses]]
name = "Sudo"
address = "subKQqsYRyVkugvKQqLXEuhsefa9728PBAqtwxpeM5N4VD6mv"
"""#

/// An important address with its 32-byte account id, resolved once.
package struct ImportantAccount: Sendable, Equatable, Codable {
    package var name: String
    package var account: [UInt8]
}

/// Everything the rules need to know about the chain an alert is about: names, token, explorer, important
/// addresses and thresholds (network values under the user's `[alerts]`).
package struct AlertNetwork: Sendable, Equatable {
    package var name: String
    package var genesisHash: [UInt8]?
    package var chainNames: [String]
    package var tokenSymbol: String
    package var decimals: Int
    package var ss58Prefix: UInt16
    package var explorerURL: String
    package var importantAddresses: [ImportantAccount]
    package var thresholds: AlertThresholds

    /// The large-transfer threshold in base units (whole tokens × 10^decimals), saturating at UInt128.max.
    package var largeTransferUnits: UInt128 {
        let whole = UInt128(thresholds.largeTransfer.filter { $0 != "_" && $0 != "," }) ?? 1_000_000
        var scale: UInt128 = 1
        for _ in 0 ..< decimals {
            let (next, overflow) = scale.multipliedReportingOverflow(by: 10)
            if overflow { return .max }
            scale = next
        }
        let (units, overflow) = whole.multipliedReportingOverflow(by: scale)
        return overflow ? .max : units
    }

    /// The first important address whose account equals `account` (spec §1.4 lookup order).
    package func importantName(_ account: [UInt8]) -> String? {
        importantAddresses.first { $0.account == account }?.name
    }

    /// SS58 with this network's prefix.
    package func address(_ account: [UInt8]) -> String { SS58.encode(account, prefix: ss58Prefix) }

    /// A short stable tag for alert ids: the first 8 bytes of the genesis hash, or the network name.
    package var idTag: String {
        if let genesisHash, genesisHash.count >= 8 { return Hex.encode(genesisHash.prefix(8), prefix: false) }
        return name.lowercased().replacingOccurrences(of: " ", with: "-")
    }
}

/// A networks file could not be read; the message names the entry and the key.
package struct NetworksFileError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var description: String { "networks file: \(message)" }
}

/// The bundled networks plus the user's `[[networks]]`/`[[important_addresses]]`/`[alerts]`, and network
/// detection (genesis hash, then `system_chain`, then a generic network from the chain's properties).
package struct NetworkCatalogue: Sendable {
    package var networks: [AlertNetwork]
    /// The user's `[alerts]` (fields left at their defaults do not override a network's value).
    package var userThresholds: AlertThresholds
    package var userImportantAddresses: [ImportantAccount]

    /// Builds the catalogue from the bundled TOML and the user's configuration (user entries override by name).
    package init(configuration: Configuration? = nil, bundled: String = bundledNetworksTOML) throws(NetworksFileError) {
        var list = try Self.parse(bundled)
        userThresholds = configuration?.alerts ?? AlertThresholds()
        var important: [ImportantAccount] = []
        for entry in configuration?.importantAddresses ?? [] {
            guard let account = Self.account(entry.address) else {
                throw NetworksFileError(message: "important address '\(entry.name)' is neither SS58 nor 0x + 64 hex digits")
            }
            important.append(ImportantAccount(name: entry.name, account: account))
        }
        userImportantAddresses = important
        for user in configuration?.networks ?? [] {
            let genesis = user.genesisHash.flatMap { Hex.decode($0) }
            if let i = list.firstIndex(where: { $0.name == user.name }) {
                if let genesis { list[i].genesisHash = genesis }
                if let s = user.tokenSymbol { list[i].tokenSymbol = s }
                if let d = user.decimals { list[i].decimals = d }
                if let p = user.ss58Prefix { list[i].ss58Prefix = UInt16(clamping: p) }
                if let e = user.explorerURL { list[i].explorerURL = e }
            } else {
                list.append(AlertNetwork(name: user.name, genesisHash: genesis, chainNames: [user.name],
                                         tokenSymbol: user.tokenSymbol ?? "UNIT", decimals: user.decimals ?? 12,
                                         ss58Prefix: UInt16(clamping: user.ss58Prefix ?? 42),
                                         explorerURL: user.explorerURL ?? "https://autonomys.subscan.io",
                                         importantAddresses: [], thresholds: AlertThresholds()))
            }
        }
        networks = list
    }

    /// The network a chain belongs to: by genesis hash, else by `system_chain` name, else generic from its properties.
    /// The user's thresholds and important addresses are layered on top.
    package func detect(genesisHash: [UInt8], chainName: String, ss58Format: UInt16?, tokenDecimals: UInt8?, tokenSymbol: String?) -> AlertNetwork {
        var network = networks.first { $0.genesisHash == genesisHash }
            ?? networks.first { $0.name == chainName || $0.chainNames.contains(chainName) }
            ?? AlertNetwork(name: chainName.isEmpty ? "Unknown network" : chainName, genesisHash: genesisHash,
                            chainNames: [chainName], tokenSymbol: tokenSymbol ?? "UNIT", decimals: Int(tokenDecimals ?? 12),
                            ss58Prefix: ss58Format ?? 42, explorerURL: "https://autonomys.subscan.io",
                            importantAddresses: [], thresholds: AlertThresholds())
        if network.genesisHash == nil { network.genesisHash = genesisHash }
        network.thresholds = Self.overlay(user: userThresholds, on: network.thresholds)
        for entry in userImportantAddresses {
            if let i = network.importantAddresses.firstIndex(where: { $0.account == entry.account }) {
                network.importantAddresses[i].name = entry.name
            } else {
                network.importantAddresses.append(entry)
            }
        }
        return network
    }

    /// The bundled network called `name` with the user's overlays (for tests and the demo).
    package func named(_ name: String) -> AlertNetwork? {
        guard let n = networks.first(where: { $0.name == name }) else { return nil }
        return detect(genesisHash: n.genesisHash ?? [], chainName: n.name, ss58Format: nil, tokenDecimals: nil, tokenSymbol: nil)
    }

    /// Fields the user changed from the default win; the rest keep the network's value.
    package static func overlay(user: AlertThresholds, on network: AlertThresholds) -> AlertThresholds {
        let d = AlertThresholds()
        var t = network
        func pick<T: Equatable>(_ key: WritableKeyPath<AlertThresholds, T>) {
            if user[keyPath: key] != d[keyPath: key] { t[keyPath: key] = user[keyPath: key] }
        }
        pick(\.blockStall); pick(\.blockResume); pick(\.chainTimeGap); pick(\.largeTransfer)
        pick(\.forkAlertDepth); pick(\.sideForkRealertEvery); pick(\.backwardsReorgDepth)
        pick(\.slotWindow); pick(\.slotSlowRatio); pick(\.slotFastRatio)
        pick(\.farmerWindow); pick(\.farmerHistory); pick(\.farmerDecreaseFraction); pick(\.farmerIncreaseFraction)
        pick(\.startupContextBlocks); pick(\.nodeLagIsolate)
        pick(\.nodeLatencyIsolate); pick(\.nodeRecoverAfter)
        return t
    }

    /// SS58 or 0x-hex to a 32-byte account.
    package static func account(_ text: String) -> [UInt8]? {
        if text.hasPrefix("0x") { return Hex.decode(text).flatMap { $0.count == 32 ? $0 : nil } }
        guard let decoded = try? SS58.decode(text), decoded.account.count == 32 else { return nil }
        return decoded.account
    }

    package static func parse(_ text: String) throws(NetworksFileError) -> [AlertNetwork] {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch { throw NetworksFileError(message: "\(error)") }
        guard let entries = table["networks"]?.array else { return [] }
        var result: [AlertNetwork] = []
        for (i, element) in entries.enumerated() {
            guard let entry = element.table, let name = entry["name"]?.string else {
                throw NetworksFileError(message: "networks[\(i)] needs a name")
            }
            var important: [ImportantAccount] = []
            for item in entry["important_addresses"]?.array ?? [] {
                guard let t = item.table, let n = t["name"]?.string, let a = t["address"]?.string, let account = account(a) else {
                    throw NetworksFileError(message: "\(name): an important address needs a name and a valid address")
                }
                important.append(ImportantAccount(name: n, account: account))
            }
            var thresholds = AlertThresholds()
            if let t = entry["thresholds"]?.table {
                thresholds = try Self.thresholds(t, network: name)
            }
            let genesis = entry["genesis_hash"]?.string.flatMap { Hex.decode($0) }
            result.append(AlertNetwork(
                name: name, genesisHash: genesis,
                chainNames: (entry["chain_names"]?.array ?? []).compactMap { $0.string },
                tokenSymbol: entry["token_symbol"]?.string ?? "UNIT", decimals: entry["decimals"]?.int ?? 12,
                ss58Prefix: UInt16(clamping: entry["ss58_prefix"]?.int ?? 42),
                explorerURL: entry["explorer_url"]?.string ?? "https://autonomys.subscan.io",
                importantAddresses: important, thresholds: thresholds))
        }
        return result
    }

    package static func thresholds(_ table: TOMLTable, network: String) throws(NetworksFileError) -> AlertThresholds {
        var t = AlertThresholds()
        for (key, value) in table {
            let number = value.double ?? value.int.map(Double.init)
            let duration = value.string.flatMap { ConfigLoader.parseDuration($0) }
            switch key {
            case "block_stall": if let duration { t.blockStall = duration }
            case "block_resume": if let duration { t.blockResume = duration }
            case "chain_time_gap": if let duration { t.chainTimeGap = duration }
            case "large_transfer": t.largeTransfer = value.string ?? value.int.map(String.init) ?? t.largeTransfer
            case "fork_alert_depth": t.forkAlertDepth = value.int ?? t.forkAlertDepth
            case "side_fork_realert_every": t.sideForkRealertEvery = value.int ?? t.sideForkRealertEvery
            case "backwards_reorg_depth": t.backwardsReorgDepth = value.int ?? t.backwardsReorgDepth
            case "slot_window": t.slotWindow = value.int ?? t.slotWindow
            case "slot_slow_ratio": t.slotSlowRatio = number ?? t.slotSlowRatio
            case "slot_fast_ratio": t.slotFastRatio = number ?? t.slotFastRatio
            case "farmer_window": t.farmerWindow = value.int ?? t.farmerWindow
            case "farmer_history": t.farmerHistory = value.int ?? t.farmerHistory
            case "farmer_decrease_fraction": t.farmerDecreaseFraction = number ?? t.farmerDecreaseFraction
            case "farmer_increase_fraction": t.farmerIncreaseFraction = number ?? t.farmerIncreaseFraction
            case "startup_context_blocks": t.startupContextBlocks = value.int ?? t.startupContextBlocks
            case "node_lag_isolate": t.nodeLagIsolate = value.int ?? t.nodeLagIsolate
            case "node_latency_isolate": if let duration { t.nodeLatencyIsolate = duration }
            case "node_recover_after": if let duration { t.nodeRecoverAfter = duration }
            default: throw NetworksFileError(message: "\(network): unknown threshold '\(key)'")
            }
        }
        return t
    }
}
