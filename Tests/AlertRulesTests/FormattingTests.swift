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

/// Spec §6.6 formats: Rust float Display, `{:.2}`, humantime durations, timestamps, short hashes, truncation.
@Suite struct FormattingTests {
    @Test func rustFloatDisplay() {
        #expect(AlertText.rustFloat(2_000_000) == "2000000")
        #expect(AlertText.rustFloat(8.75) == "8.75")
        #expect(AlertText.rustFloat(10) == "10")
        #expect(AlertText.rustFloat(1_139_874.58) == "1139874.58")
        #expect(AlertText.rustFloat(Double(UInt128(1_139_874_580_721_948_575_925_918)) / 1e18) == "1139874.5807219485")
        #expect(AlertText.rustFloat(1e21) == "1000000000000000000000")
        #expect(AlertText.rustFloat(1.5e-7) == "0.00000015")
        #expect(AlertText.rustFloat(0.1) == "0.1")
        #expect(AlertText.rustFloat(-2.5) == "-2.5")
        #expect(AlertText.rustFloat(0) == "0")
        #expect(AlertText.rustFloat(123456789012345680) == "123456789012345680")
        #expect(AlertText.rustFloat(.infinity) == "inf")
    }

    @Test func amounts() {
        #expect(AlertText.amount(UInt128(2_000_000) * 1_000_000_000_000_000_000, decimals: 18, symbol: "AI3") == "2000000 AI3")
        #expect(AlertText.amount(12_345_678_000_000_000_000_000, decimals: 18, symbol: "AI3") == "12345.678 AI3")
        #expect(AlertText.amount(499_999_999_999_999_991_611_392, decimals: 18, symbol: "AI3") == "500000 AI3") // f64 rounding, as the original
        #expect(AlertText.amount(nil, decimals: 18, symbol: "AI3") == "unknown")
        #expect(AlertText.amount(15, decimals: 0, symbol: "X") == "15 X")
    }

    @Test func twoDecimals() {
        #expect(AlertText.twoDecimals(1.0) == "1.00")
        #expect(AlertText.twoDecimals(1.005) == "1.00") // exact binary value is below 1.005
        #expect(AlertText.twoDecimals(1.125) == "1.12") // ties to even on the exact value
        #expect(AlertText.twoDecimals(100) == "100.00")
        #expect(AlertText.twoDecimals(.infinity) == "inf")
    }

    @Test func humantimeDurations() {
        #expect(AlertText.duration(milliseconds: 0) == "0s")
        #expect(AlertText.duration(milliseconds: 999) == "0s")
        #expect(AlertText.duration(milliseconds: 65_000) == "1m 5s")
        #expect(AlertText.duration(milliseconds: 3_600_000) == "1h")
        #expect(AlertText.duration(milliseconds: 90_061_000) == "1day 1h 1m 1s")
        #expect(AlertText.duration(milliseconds: 2 * 86_400_000) == "2days")
        #expect(AlertText.duration(milliseconds: 2_630_016_000) == "1month")
        #expect(AlertText.duration(milliseconds: 31_557_600_000 * 2 + 1000) == "2years 1s")
        #expect(AlertText.timeDelta(milliseconds: -45_000) == "- 45s")
        #expect(AlertText.timeDelta(milliseconds: nil) == "missing")
    }

    @Test func rfc3339MatchesThePayloadFormatter() {
        for ms: UInt64 in [0, 1_750_000_006_000, 1_750_000_006_007, 1_750_000_006_070, 951_782_400_999] {
            #expect(AlertText.rfc3339(milliseconds: ms) == AlertPayload.timestamp(Date(timeIntervalSince1970: Double(ms) / 1000)))
        }
    }

    @Test func timestamps() {
        #expect(AlertText.timestamp(milliseconds: 0) == "1970-01-01 00:00:00 UTC")
        #expect(AlertText.timestamp(milliseconds: 1_750_000_006_000) == "2025-06-15 15:06:46 UTC")
        #expect(AlertText.timestamp(milliseconds: 951_782_400_000) == "2000-02-29 00:00:00 UTC")
        #expect(AlertText.timestamp(milliseconds: 4_102_444_799_999) == "2099-12-31 23:59:59 UTC")
    }

    @Test func shortHashAndTruncation() {
        let h = Hex.decode("0x18c2f211b752cbc2f06943788ed011ab1fe64fb2e28ffcd1aeb4490c2e8b1baa")!
        #expect(AlertText.shortHash(h) == "0x18c2\u{2026}1baa")
        let short = String(repeating: "a", count: 197)
        #expect(AlertText.truncateField(short) == short)
        let long = String(repeating: "b", count: 100) + String(repeating: "c", count: 100)
        let cut = AlertText.truncateField(long)
        #expect(cut.count == 199)
        #expect(cut == String(repeating: "b", count: 98) + "..." + String(repeating: "c", count: 98))
    }

    @Test func ss58AndImportantAddressesOfMainnet() throws {
        let mainnet = Fixtures.mainnet
        #expect(mainnet.importantAddresses.count == 13)
        #expect(mainnet.importantAddresses.last?.name == "Sudo")
        #expect(mainnet.largeTransferUnits == UInt128(1_000_000) * 1_000_000_000_000_000_000)
        let sudo = mainnet.importantAddresses.last!.account
        #expect(mainnet.address(sudo) == "subKQqsYRyVkugvKQqLXEuhsefa9728PBAqtwxpeM5N4VD6mv")
        var roles = RoleAccounts()
        roles.add(.signer, mainnet.importantAddresses[6].account)
        roles.add(.sender, mainnet.importantAddresses[6].account)
        #expect(roles.kindsText(mainnet) == "Signer: Market Liquidity, Sender: Market Liquidity")
    }
}
