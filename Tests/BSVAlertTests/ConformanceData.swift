import Foundation
import Testing
@testable import BSVAlert

/// Locates the shared `bsv-alert` conformance vectors, read in place (never copied into the repository):
/// `$CHAIN_ALERTER_CONFORMANCE`, else `../shared/conformance` next to the repository root.
enum BSVConformance {
    static let directory: URL = {
        if let override = ProcessInfo.processInfo.environment["CHAIN_ALERTER_CONFORMANCE"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        // Tests/BSVAlertTests/ConformanceData.swift → the repository root is three levels up.
        let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")
    }()

    static var folder: URL { directory.appendingPathComponent("bsv-alert") }

    static let isAvailable = FileManager.default.fileExists(atPath: folder.appendingPathComponent("vectors.json").path)
        && FileManager.default.fileExists(atPath: folder.appendingPathComponent("keys.json").path)

    /// CI sets this so that a missing data set fails the run instead of silently skipping.
    static let isRequired = ProcessInfo.processInfo.environment["CHAIN_ALERTER_REQUIRE_CONFORMANCE"] == "1"

    static let absenceNote = "bsv-alert conformance data not found at \(folder.path) (set CHAIN_ALERTER_CONFORMANCE); BSV conformance tests are disabled"

    static func json(_ file: String) -> AlertJSON? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(file)) else { return nil }
        return AlertJSON.parse([UInt8](data))
    }

    static let vectorsFile: AlertJSON? = isAvailable ? json("vectors.json") : nil
    static let keysFile: AlertJSON? = isAvailable ? json("keys.json") : nil

    static var vectors: [AlertJSON] { vectorsFile?["vectors"]?.arrayValue ?? [] }
    static var payloadVectors: [AlertJSON] { vectorsFile?["payload_vectors"]?.arrayValue ?? [] }
    static var signatureVectors: [AlertJSON] { vectorsFile?["bsm_signature_vectors"]?.arrayValue ?? [] }
    /// Indices, so that swift-testing names each case.
    static var vectorIndices: [Int] { Array(vectors.indices) }
    static var payloadVectorIndices: [Int] { Array(payloadVectors.indices) }

    /// The public test keys Key1..Key5 (published in the reference; test only).
    static var testSigningKeys: [AlertSigningKey] {
        (keysFile?["test_keys"]?.arrayValue ?? []).compactMap { entry in
            entry["private_key_hex"]?.stringValue.flatMap { try? AlertSigningKey(privateKeyHex: $0) }
        }
    }

    static func genesisKeys(_ network: String) -> [String] {
        (keysFile?["genesis_key_sets"]?[network]?["keys"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// "test[2]" → the hex of the third local genesis key; nil stays nil.
    static func signerHex(_ label: AlertJSON) -> AlertJSON {
        guard case .string(let text) = label, text.hasPrefix("test["), text.hasSuffix("]"),
              let index = Int(text.dropFirst(5).dropLast()) else { return .null }
        let keys = genesisKeys("test")
        return index < keys.count ? .string(keys[index]) : .null
    }
}

extension AlertJSON {
    var arrayValue: [AlertJSON]? { if case .array(let values) = self { values } else { nil } }
    var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    var intValue: Int64? {
        switch self {
        case .int(let value): value
        case .uint(let value): Int64(exactly: value)
        default: nil
        }
    }
    var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }

    /// Members sorted by key and non-negative integers as `.int`, so that two documents compare by content.
    var canonical: AlertJSON {
        switch self {
        case .uint(let value): if let small = Int64(exactly: value) { .int(small) } else { self }
        case .array(let values): .array(values.map(\.canonical))
        case .object(let members): .object(members.map { Member($0.key, $0.value.canonical) }.sorted { $0.key < $1.key })
        default: self
        }
    }
}

func bytes(hex: String) throws -> [UInt8] {
    try #require(HexEncoding.decode(hex), "not hex: \(hex.prefix(40))")
}

/// A deterministic PRNG (SplitMix64), so that a fuzz failure reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct BSVConformancePresenceTests {
    /// Says in one line when the data set is missing; fails only when CI requires the data.
    @Test func conformanceDataIsPresentOrReported() {
        if !BSVConformance.isAvailable {
            print(BSVConformance.absenceNote)
            if BSVConformance.isRequired { Issue.record("CHAIN_ALERTER_REQUIRE_CONFORMANCE=1 but \(BSVConformance.absenceNote)") }
        } else {
            #expect(BSVConformance.vectors.count >= 30, "vectors.json has fewer vectors than expected")
            #expect(BSVConformance.testSigningKeys.count == 5)
        }
    }
}
