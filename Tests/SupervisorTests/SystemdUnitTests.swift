import Foundation
import Testing
import TestKit

/// `systemd-analyze verify` on every unit in systemd/. It exits 0 on many problems and only prints them,
/// so any diagnostic output counts as a failure.
@Suite struct SystemdUnitTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let unitDirectory = repositoryRoot.appendingPathComponent("systemd")
    /// The directory holding the built executables (next to the test bundle).
    static let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    static let analyze = "/usr/bin/systemd-analyze"

    static var units: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: unitDirectory.path)) ?? [])
            .filter { $0.hasSuffix(".service") || $0.hasSuffix(".target") }.sorted()
    }

    /// Copies `unit` into a scratch directory with /usr/local/bin/ pointing at the build directory
    /// (verify checks that ExecStart= is executable), applies `edit`, and returns verify's output.
    static func verify(_ unit: String, edit: (String) -> String = { $0 }) throws -> (status: Int32, output: String) {
        let temporary = try TemporaryDirectory(prefix: "units")
        defer { temporary.remove() }
        let scratch = URL(fileURLWithPath: temporary.path)
        for name in units {
            let text = try String(contentsOf: unitDirectory.appendingPathComponent(name), encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/", with: buildDirectory.path + "/")
            try (name == unit ? edit(text) : text).write(to: scratch.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        // A template is verified through an instance of it.
        let target = unit.hasSuffix("@.service") ? unit.replacingOccurrences(of: "@.service", with: "@node0.service") : unit
        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyze)
        process.arguments = ["verify", "--man=no", "./" + target]
        process.currentDirectoryURL = scratch
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func everyExpectedUnitExists() {
        #expect(Self.units == [
            "chain-alerter-alert-worker.service", "chain-alerter-fork-worker.service", "chain-alerter-node-watcher@.service",
            "chain-alerter-notifier.service", "chain-alerter.service", "chain-alerter.target",
        ])
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyze), "systemd-analyze is not installed (apt-get install systemd)"),
          arguments: units)
    func unitVerifiesCleanly(unit: String) throws {
        let result = try Self.verify(unit)
        #expect(result.status == 0, "\(unit): \(result.output)")
        #expect(result.output.isEmpty, "\(unit): \(result.output)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyze), "systemd-analyze is not installed (apt-get install systemd)"))
    func verifyCatchesABrokenUnit() throws {
        // The check above is only meaningful if a mistake shows up in verify's output.
        let result = try Self.verify("chain-alerter.service") { $0.replacingOccurrences(of: "Type=notify", with: "Type=notifyy") }
        #expect(result.output.contains("notifyy"))
    }

    @Test func supervisedServiceHasTheRequiredSettings() throws {
        let text = try String(contentsOf: Self.unitDirectory.appendingPathComponent("chain-alerter.service"), encoding: .utf8)
        for line in ["Type=notify", "WatchdogSec=", "Restart=on-failure", "RestartPreventExitStatus=78", "DynamicUser=yes",
                     "ProtectSystem=strict", "StateDirectory=chain-alerter", "RuntimeDirectory=chain-alerter",
                     "NoNewPrivileges=yes", "LoadCredential=slack-secret:"] {
            #expect(text.contains(line), "chain-alerter.service lacks \(line)")
        }
    }
}
