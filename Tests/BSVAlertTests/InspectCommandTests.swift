import Foundation
import Testing
@testable import BSVAlert
@testable import supervisor

/// `supervisor alert-system inspect` over every conformance vector: through the command's function, and
/// through the built executable (exit status, stdout, stderr).
@Suite(.enabled(if: BSVConformance.isAvailable, "bsv-alert conformance data not present"))
struct InspectCommandTests {
    /// Checks one printed verdict against a vector's expectations.
    static func check(verdictText: String, vector: AlertJSON, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let name = vector["name"]?.stringValue ?? "?"
        let expected = try #require(vector["expected"])
        let verdict = try #require(AlertJSON.parse(Array(verdictText.utf8)), "\(name): verdict is not JSON: \(verdictText)")
        for field in ["version", "sequence", "timestamp", "type", "type_name"] {
            #expect(verdict[field]?.canonical == (expected[field] ?? .null).canonical, "\(name): \(field)", sourceLocation: sourceLocation)
        }
        let hash = expected["hash"] ?? expected["hash_of_first_20_bytes"] ?? .null
        #expect(verdict["hash"] == hash, "\(name): hash", sourceLocation: sourceLocation)
        #expect(verdict["payload"]?.canonical == (expected["payload"] ?? .null).canonical, "\(name): payload", sourceLocation: sourceLocation)
        let signers: AlertJSON = expected["signers"]?.arrayValue.map { .array($0.map(BSVConformance.signerHex)) } ?? .null
        #expect(verdict["signers"] == signers, "\(name): signers", sourceLocation: sourceLocation)
        let outcome = try #require(expected["outcome"]?.stringValue)
        #expect(verdict["valid"] == .bool(outcome == "accept"), "\(name): valid", sourceLocation: sourceLocation)
        let reasons = verdict["reasons"]?.arrayValue ?? []
        if outcome == "accept" {
            #expect(reasons.isEmpty, "\(name): reasons \(reasons)", sourceLocation: sourceLocation)
        } else {
            #expect(reasons.contains(.string(String(outcome.dropFirst("reject: ".count)))), "\(name): reasons \(reasons)", sourceLocation: sourceLocation)
        }
        if expected["sequence"]?.intValue == 0 {
            #expect(reasons.contains(.string(AlertInspection.genesisReason)), "\(name): genesis reason", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: BSVConformance.vectorIndices)
    func inspectFunction(_ index: Int) throws {
        let vector = BSVConformance.vectors[index]
        let text = try AlertSystemInspectCommand.verdict(rawHex: try #require(vector["raw_hex"]?.stringValue), keys: "local")
        try Self.check(verdictText: text, vector: vector)
    }

    @Test func keyFileGivesTheSameVerdictsAsTheNamedSet() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bsv-keys-\(getpid()).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try ("# local test keys\n" + BSVConformance.genesisKeys("local").joined(separator: "\n") + "\n\n").write(to: file, atomically: true, encoding: .utf8)
        for vector in BSVConformance.vectors {
            let raw = try #require(vector["raw_hex"]?.stringValue)
            #expect(try AlertSystemInspectCommand.verdict(rawHex: raw, keys: file.path) == AlertSystemInspectCommand.verdict(rawHex: raw, keys: "local"))
        }
    }

    /// The default key set is mainnet's: an alert signed with the public test keys is not valid there.
    @Test func mainnetIsTheDefaultAndRefusesTestSignatures() throws {
        let command = try AlertSystemInspectCommand.parse(["--raw", "00"])
        #expect(command.keys == "mainnet")
        let accepted = try #require(BSVConformance.vectors.first { $0["expected"]?["outcome"]?.stringValue == "accept" })
        let verdict = try #require(AlertJSON.parse(Array(try AlertSystemInspectCommand.verdict(rawHex: accepted["raw_hex"]?.stringValue ?? "", keys: "mainnet").utf8)))
        #expect(verdict["valid"] == .bool(false))
        #expect(verdict["signers"] == .array([.null, .null, .null]))
        #expect(verdict["reasons"]?.arrayValue?.contains(.string("signatures do not verify")) == true)
    }

    /// The real executable, every vector: exit 0 and the same verdict; not hex: non-zero and a message on stderr.
    @Test func builtExecutable() throws {
        let executable = try #require(Self.supervisorExecutable(), "the supervisor executable is not built next to the tests")
        for vector in BSVConformance.vectors {
            let raw = try #require(vector["raw_hex"]?.stringValue)
            let run = try Self.run(executable, ["alert-system", "inspect", "--raw", raw, "--keys", "local"])
            #expect(run.status == 0, "\(vector["name"]?.stringValue ?? ""): exit \(run.status), stderr \(run.stderr)")
            try Self.check(verdictText: run.stdout, vector: vector)
        }
        let bad = try Self.run(executable, ["alert-system", "inspect", "--raw", "nothex"])
        #expect(bad.status != 0)
        #expect(bad.stdout.isEmpty)
        #expect(bad.stderr.contains("not hex"))
    }

    static func supervisorExecutable() -> String? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0 ..< 4 {
            let candidate = directory.appendingPathComponent("supervisor").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        let fallback = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/supervisor").path
        return FileManager.default.isExecutableFile(atPath: fallback) ? fallback : nil
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

/// What inspect does with input that is not an alert; needs no conformance data.
@Suite struct InspectInputTests {
    @Test func inputThatIsNotHexPrintsNoVerdict() {
        #expect(throws: AlertSystemInspectCommand.InspectError.self) { try AlertSystemInspectCommand.verdict(rawHex: "01zz", keys: "local") }
        #expect(throws: AlertSystemInspectCommand.InspectError.self) { try AlertSystemInspectCommand.verdict(rawHex: "010", keys: "local") }
        #expect(throws: AlertSystemInspectCommand.InspectError.self) { try AlertSystemInspectCommand.verdict(rawHex: "00", keys: "/nonexistent/keys.txt") }
        // Empty and tiny inputs are hex: they get a verdict with every field unknown.
        #expect(throws: Never.self) { try AlertSystemInspectCommand.verdict(rawHex: "", keys: "local") }
    }

    @Test func unparseableInputStillPrintsAVerdict() throws {
        let verdict = try #require(AlertJSON.parse(Array(try AlertSystemInspectCommand.verdict(rawHex: "0x0100", keys: "local").utf8)))
        #expect(verdict["valid"] == .bool(false))
        #expect(verdict["sequence"] == .null)
        #expect(verdict["payload"] == .null)
        #expect(verdict["reasons"] == .array([.string("alert shorter than 20 bytes (2)")]))
    }
}
