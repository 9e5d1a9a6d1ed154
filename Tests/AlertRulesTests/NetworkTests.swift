import Foundation
import Testing
@testable import AlertRules
@testable import alert_worker
@testable import devnode
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// Network detection (genesis hash, then system_chain, then properties) and user overrides.
@Suite struct NetworkTests {
    @Test func detection() throws {
        let c = Fixtures.catalogue
        let chronos = Hex.decode("0x91912b429ce7bf2975440a0920b46a892fddeeaed6ccc11c93f2d57ad1bd69ab")!
        #expect(c.detect(genesisHash: chronos, chainName: "whatever", ss58Format: nil, tokenDecimals: nil, tokenSymbol: nil).name == "Autonomys Chronos Testnet")
        let gemini = Hex.decode("0x0c121c75f4ef450f40619e1fca9d1e8e7fbabc42c895bc4790801e85d5a91c34")!
        #expect(c.detect(genesisHash: gemini, chainName: "", ss58Format: nil, tokenDecimals: nil, tokenSymbol: nil).ss58Prefix == 2254)
        let byName = c.detect(genesisHash: [1, 2, 3], chainName: "Autonomys Mainnet", ss58Format: nil, tokenDecimals: nil, tokenSymbol: nil)
        #expect(byName.name == "Autonomys Mainnet" && byName.importantAddresses.count == 13 && byName.explorerURL == "https://autonomys.subscan.io")
        let dev = c.detect(genesisHash: [9], chainName: "Autonomys Devnode", ss58Format: 6094, tokenDecimals: 18, tokenSymbol: "AI3")
        #expect(dev.name == "Autonomys Devnode" && dev.importantAddresses.count == 13)
        let generic = c.detect(genesisHash: [7], chainName: "Rococo", ss58Format: 42, tokenDecimals: 12, tokenSymbol: "ROC")
        #expect(generic.name == "Rococo" && generic.tokenSymbol == "ROC" && generic.decimals == 12 && generic.ss58Prefix == 42)
        #expect(generic.importantAddresses.isEmpty)
    }

    @Test func userConfigOverrides() throws {
        let toml = """
            [alerts]
            large_transfer = "5000"
            [[important_addresses]]
            name = "Our treasury"
            address = "0x6d57406dc9d7059e5b7f6522b3cece497073e324dc2e0ae0bba2068700511aa8"
            [[networks]]
            name = "Autonomys Chronos Testnet"
            token_symbol = "tAI3"
            explorer_url = "https://chronos.example.org"
            [[networks]]
            name = "My Chain"
            genesis_hash = "0x1111111111111111111111111111111111111111111111111111111111111111"
            token_symbol = "MY"
            decimals = 10
            ss58_prefix = 99
            """
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nets-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("c.toml")
        try toml.write(to: file, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.resolve(options: try ChainAlerterOptions.parse(["--slack=false", "--config", file.path]), environment: [:])
        let c = try NetworkCatalogue(configuration: config)
        let chronos = c.named("Autonomys Chronos Testnet")!
        #expect(chronos.tokenSymbol == "tAI3" && chronos.explorerURL == "https://chronos.example.org")
        #expect(chronos.thresholds.largeTransfer == "5000" && chronos.largeTransferUnits == UInt128(5000) * 1_000_000_000_000_000_000)
        #expect(chronos.importantName(Hex.decode("0x6d57406dc9d7059e5b7f6522b3cece497073e324dc2e0ae0bba2068700511aa8")!) == "Our treasury")
        let mine = c.detect(genesisHash: [UInt8](repeating: 0x11, count: 32), chainName: "?", ss58Format: nil, tokenDecimals: nil, tokenSymbol: nil)
        #expect(mine.name == "My Chain" && mine.decimals == 10 && mine.ss58Prefix == 99)
        // Bundled per-network thresholds stay unless the user changed that key.
        #expect(NetworkCatalogue.overlay(user: AlertThresholds(), on: { var t = AlertThresholds(); t.forkAlertDepth = 9; return t }()).forkAlertDepth == 9)
    }

    @Test func bundledFileParsesAndRejectsUnknownThresholds() {
        #expect(throws: NetworksFileError.self) {
            _ = try NetworkCatalogue(bundled: "[[networks]]\nname = \"x\"\n[networks.thresholds]\nbogus = 1\n")
        }
        #expect(Fixtures.catalogue.networks.map(\.name) == ["Autonomys Mainnet", "Autonomys Chronos Testnet", "Autonomys Gemini 3h", "Autonomys Devnode"])
    }
}
