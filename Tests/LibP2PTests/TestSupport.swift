import Crypto
import Foundation
import NIOConcurrencyHelpers
@testable import LibP2P

enum Curve25519Keys {
    static func agreement(_ fill: UInt8) throws -> Curve25519.KeyAgreement.PrivateKey {
        try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: [UInt8](repeating: fill, count: 32))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Awaits `body` for at most `seconds`, failing with a message that says what was awaited.
func within<T: Sendable>(_ seconds: Double, _ what: String, _ diagnostics: (@Sendable () -> String)? = nil,
                         _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    do { return try await withP2PDeadline(seconds: seconds, what, body) } catch P2PStreamError.timedOut {
        throw TestFailure("timed out after \(seconds) s: \(what) \(diagnostics?() ?? "")")
    }
}

/// The py-libp2p peer (`Fixtures/py_peer.py`) run from the package's `.build-pyvenv`.
final class PyPeer {
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
    static var python: String { packageRoot + "/.build-pyvenv/bin/python" }
    static var script: String { packageRoot + "/Tests/LibP2PTests/Fixtures/py_peer.py" }
    static let howTo = "install py-libp2p for the interop tests: apt-get install -y libgmp-dev python3-venv && python3 -m venv .build-pyvenv && .build-pyvenv/bin/pip install libp2p==0.8.1 (or run .ci/setup-debian)"

    /// Fails (never skips) when the venv or py-libp2p is missing.
    static func requireInstalled() throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("no Python venv at \(packageRoot)/.build-pyvenv; \(howTo)")
        }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = ["-c", "import libp2p, importlib.metadata as m; assert m.version('libp2p') == '0.8.1', m.version('libp2p')"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        guard check.terminationStatus == 0 else { throw TestFailure("py-libp2p 0.8.1 is not importable from \(python); \(howTo)") }
    }

    let process = Process()
    private let stdin = Pipe()
    private let lines = NIOLockedValueBox<[String]>([])
    private let stderrText = NIOLockedValueBox<String>("")

    init(_ arguments: [String]) throws {
        try Self.requireInstalled()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Self.script] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONUNBUFFERED": "1"]) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        let lines = self.lines, stderrText = self.stderrText
        let partial = NIOLockedValueBox<String>("")
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else { handle.readabilityHandler = nil; return }
            partial.withLockedValue { text in
                text += String(decoding: data, as: UTF8.self)
                while let newline = text.firstIndex(of: "\n") {
                    let line = String(text[..<newline])
                    text = String(text[text.index(after: newline)...])
                    lines.withLockedValue { $0.append(line) }
                }
            }
        }
        err.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else { handle.readabilityHandler = nil; return }
            stderrText.withLockedValue { $0 = String(($0 + String(decoding: data, as: UTF8.self)).suffix(4000)) }
        }
        try process.run()
    }

    var output: [String] { lines.withLockedValue { $0 } }
    var errorOutput: String { stderrText.withLockedValue { $0 } }

    /// Waits for a stdout line matching `predicate`.
    func line(within seconds: Double = 20, _ what: String, where predicate: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let found = output.first(where: predicate) { return found }
            if !process.isRunning, output.first(where: predicate) == nil {
                try await Task.sleep(for: .milliseconds(100))
                if let found = output.first(where: predicate) { return found }
                throw TestFailure("py peer exited (\(process.terminationStatus)) before \(what); stderr: \(errorOutput)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("py peer: no \(what) within \(seconds) s; stdout: \(output); stderr: \(errorOutput)")
    }

    /// Waits for the address the py peer listens on.
    func listenAddress() async throws -> Multiaddr {
        let line = try await line(within: 30, "READY line") { $0.hasPrefix("READY ") }
        return try Multiaddr(String(line.dropFirst("READY ".count)))
    }

    func waitForExit(within seconds: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            guard Date() < deadline else { stop(); throw TestFailure("py peer still running after \(seconds) s; stdout: \(output); stderr: \(errorOutput)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Sends one command line to the py peer's stdin.
    func send(_ line: String) {
        stdin.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }

    deinit { stop() }
}

func jsonObject(_ line: String) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { throw TestFailure("not a JSON object: \(line)") }
    return object
}
