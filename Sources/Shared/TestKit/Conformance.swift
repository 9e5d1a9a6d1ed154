import Foundation
import SubstrateRuntime
import SubstratePrimitives
import Wire
import WorkerRuntime
import HTTPClient

/// Locates the shared conformance data set, read in place (never copied into the repository):
/// `$CHAIN_ALERTER_CONFORMANCE`, else `../shared/conformance` next to the repository root.
public enum Conformance {
    public static let directory: URL = {
        if let override = ProcessInfo.processInfo.environment["CHAIN_ALERTER_CONFORMANCE"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        // Sources/Shared/TestKit/Conformance.swift → the repository root is four levels up.
        let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")
    }()

    public static var substrate: URL { directory.appendingPathComponent("substrate") }

    public static let isAvailable: Bool = FileManager.default.fileExists(atPath: substrate.appendingPathComponent("metadata/index.json").path)

    /// CI sets this so that a missing data set fails the run instead of silently skipping.
    public static let isRequired: Bool = ProcessInfo.processInfo.environment["CHAIN_ALERTER_REQUIRE_CONFORMANCE"] == "1"

    public static let absenceNote = "conformance data not found at \(substrate.path) (set CHAIN_ALERTER_CONFORMANCE); conformance tests are disabled"

    public static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: substrate.appendingPathComponent(relativePath)))
    }

    public static func json(_ relativePath: String) throws -> JSONValue {
        try JSONValue.parse(try bytes(relativePath))
    }

    /// Metadata blobs parsed once and shared by every test.
    public static let metadataCache = MetadataCache()

    public static func metadata(_ file: String) throws -> RuntimeMetadata {
        try metadataCache.get(file)
    }

    /// Every block file (real and synthetic) as a relative path.
    public static var blockFiles: [String] {
        guard isAvailable else { return [] }
        var files: [String] = []
        for folder in ["blocks", "subspace"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: substrate.appendingPathComponent(folder).path)) ?? []
            files += names.filter { $0.hasSuffix(".json") && $0 != "chain.json" }.sorted().map { "\(folder)/\($0)" }
        }
        return files
    }

    public static var metadataFiles: [String] {
        guard isAvailable, let index = try? json("metadata/index.json"), case .array(let entries)? = index["files"] else { return [] }
        return entries.compactMap { if case .string(let f)? = $0["file"] { return f } else { return nil } }
    }
}

/// Parsed metadata keyed by file name; a lock keeps it safe under parallel tests.
public final class MetadataCache: @unchecked Sendable {
    private let lock = NSLock()
    private var parsed: [String: RuntimeMetadata] = [:]

    public func get(_ file: String) throws -> RuntimeMetadata {
        lock.lock()
        defer { lock.unlock() }
        if let cached = parsed[file] { return cached }
        let metadata = try RuntimeMetadata(bytes: try Conformance.bytes("metadata/\(file)"))
        parsed[file] = metadata
        return metadata
    }
}

/// A block file of the conformance set.
public struct ConformanceBlock {
    public let file: String
    public let json: JSONValue
    public let metadataFile: String
    public let headerBytes: [UInt8]
    public let hash: String
    public let extrinsics: [[UInt8]]
    public let events: [UInt8]?

    public init(_ file: String) throws {
        self.file = file
        json = try Conformance.json(file)
        guard case .string(let m)? = json["metadata"], case .string(let h)? = json["header_scale"], case .string(let hash)? = json["hash"],
              case .array(let xs)? = json["extrinsics"] else { throw TestDataError("\(file): unexpected shape") }
        metadataFile = m
        headerBytes = try Self.hex(h)
        self.hash = hash
        extrinsics = try xs.map { v throws -> [UInt8] in
            guard case .string(let s) = v else { throw TestDataError("extrinsic not a string") }
            return try Self.hex(s)
        }
        if case .string(let e)? = json["events_storage_hex"] { events = try Self.hex(e) } else { events = nil }
    }

    public static func hex(_ s: String) throws -> [UInt8] {
        guard let b = Hex.decode(s) else { throw TestDataError("bad hex \(s.prefix(20))") }
        return b
    }
}

public struct TestDataError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
