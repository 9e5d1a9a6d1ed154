import Foundation
import Testing
@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

/// Every test that starts real processes, run one at a time so that their timings do not compete
/// (each also has its own time limit and cleans up after itself).
@Suite(.serialized) enum RealProcesses {}

/// A short temporary directory (ipc:// paths must fit in 107 bytes), removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = try TemporaryDirectory(prefix: "ca").path
    }

    /// A worker directory whose four executables are this shell script.
    func shellWorkers(_ script: String) throws -> String {
        let directory = path + "/workers"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for role in WorkerRole.allCases {
            let file = directory + "/" + role.rawValue
            try ("#!/bin/sh\n" + script + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            chmod(file, 0o755)
        }
        return directory
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// One process as seen in /proc.
struct ProcEntry: Equatable {
    var pid: Int32
    var name: String
    /// `R`, `S`, `T` (stopped), `Z` (zombie), …
    var state: Character
}

/// A real `supervisor` process started by a test. Its environment carries a unique marker that
/// every worker inherits, so /proc tells exactly which processes belong to this test.
final class LaunchedSupervisor: @unchecked Sendable {
    let scratch: ScratchDirectory
    let stateDirectory: String
    let marker = "test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let logFile: String
    let host = POSIXProcessHost()
    private(set) var pid: Int32 = 0
    private var exitStatus: TerminationStatus?

    /// Starts `supervisor run --slack=false --state-dir … <arguments>`.
    /// `shellPrefix` runs in the launching shell before the exec (e.g. `trap '' CHLD;`).
    init(arguments: [String] = [], workerDirectory: String? = nil, tuning: String, extraEnvironment: [String: String] = [:],
         shellPrefix: String = "", scratch: ScratchDirectory) async throws {
        self.scratch = scratch
        stateDirectory = scratch.path + "/state"
        logFile = scratch.path + "/supervisor.log"
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CHAIN_ALERTER_") && $0.key != "NOTIFY_SOCKET" }
        environment["CHAIN_ALERTER_TEST_MARKER"] = marker
        // `tuning` holds supervisor knobs (`heartbeat=200,…`); they go in the one tuning setting, scoped.
        environment[Tuning.variable] = tuning.split(separator: ",").map { "supervisor." + $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: ",")
        if let workerDirectory { environment["CHAIN_ALERTER_WORKER_DIR"] = workerDirectory }
        environment.merge(extraEnvironment) { _, new in new }
        // Any free port for the HTTP endpoints unless the test chose one: never the production default 9616,
        // which another supervisor on this machine may hold.
        let http = arguments.contains("--http-listen") ? [] : ["--http-listen", "127.0.0.1:0"]
        let argv = ["--slack=false", "--state-dir", stateDirectory] + http + arguments
        // sh execs the supervisor in place (same pid) with stderr in a file the test can read.
        // bash, because dash does not pass an ignored SIGCHLD (`trap '' CHLD`) on to what it execs.
        let spec = ProcessSpec(
            executable: "/bin/bash",
            arguments: ["bash", "-c", "\(shellPrefix) exec \"$0\" \"$@\" 2>>\(logFile) >>\(logFile)", BuildProducts.supervisor] + argv,
            environment: environment
        )
        pid = try await host.spawn(spec)
    }

    /// The supervisor's log so far.
    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Waits for the supervisor to exit; nil if it is still running after `limit`.
    func waitForExit(within limit: Duration) async -> TerminationStatus? {
        if let exitStatus { return exitStatus }
        let host = self.host
        let status = await withTaskGroup(of: TerminationStatus?.self) { group in
            group.addTask {
                for await exit in host.exits { return exit.status }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        exitStatus = status
        return status
    }

    /// Every live process (not zombie) that carries this test's marker, i.e. the supervisor and its workers.
    func processes() -> [ProcEntry] {
        Self.processes(withMarker: marker)
    }

    /// Live workers of this test by instance name.
    func workers() -> [String: Int32] {
        var result: [String: Int32] = [:]
        for entry in processes() where entry.pid != pid {
            if let name = Self.environment(of: entry.pid)[WorkerEnvironment.workerName] { result[name] = entry.pid }
        }
        return result
    }

    static func processes(withMarker marker: String) -> [ProcEntry] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.compactMap { pid -> ProcEntry? in
            guard environment(of: pid)["CHAIN_ALERTER_TEST_MARKER"] == marker,
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
            let name = String(stat[stat.index(after: open)..<close])
            let rest = stat[stat.index(close, offsetBy: 2)...]
            guard let state = rest.first, state != "Z", state != "X" else { return nil }
            return ProcEntry(pid: pid, name: name, state: state)
        }
    }

    static func environment(of pid: Int32) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return [:] }
        var result: [String: String] = [:]
        for entry in data.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
        }
        return result
    }

    /// Kills the supervisor and everything carrying the marker, then removes the scratch directory.
    /// Safe to call more than once; used in `defer` so that a failing test leaves nothing behind.
    func cleanUp() async {
        for entry in processes() {
            kill(entry.pid, SIGCONT)
            kill(entry.pid, SIGKILL)
        }
        _ = await waitForExit(within: .seconds(2))
        scratch.remove()
    }
}

/// Starts a supervisor, runs `body`, and always kills what was started and removes the scratch
/// directory afterwards, whether `body` passed, failed or threw.
func withSupervisor(
    arguments: [String] = [], workerScript: String? = nil, tuning: String, missingWorkers: Bool = false,
    extraEnvironment: [String: String] = [:], shellPrefix: String = "",
    _ body: (LaunchedSupervisor) async throws -> Void
) async throws {
    let scratch = try ScratchDirectory()
    let workerDirectory = missingWorkers ? scratch.path + "/nothing-here" : try workerScript.map { try scratch.shellWorkers($0) }
    let supervisor: LaunchedSupervisor
    do {
        supervisor = try await LaunchedSupervisor(
            arguments: arguments, workerDirectory: workerDirectory, tuning: tuning, extraEnvironment: extraEnvironment, shellPrefix: shellPrefix, scratch: scratch
        )
    } catch {
        scratch.remove()
        throw error
    }
    do {
        try await body(supervisor)
    } catch {
        await supervisor.cleanUp()
        throw error
    }
    await supervisor.cleanUp()
}

extension LaunchedSupervisor {
    /// Waits until every worker of the lineup is running and the supervisor announced READY.
    func waitUntilAllReady(_ names: [String], within limit: Duration = .seconds(20)) async throws -> [String: Int32] {
        try await eventuallyValue(timeout: limit, every: .milliseconds(5), "all workers ready") { () -> [String: Int32]? in
            let workers = self.workers()
            guard self.log.contains("all workers ready"), Set(workers.keys) == Set(names) else { return nil }
            return workers
        }
    }

    /// Runs `supervisor ctl <arguments> --state-dir <this supervisor's>` and returns its exit status and stdout+stderr.
    func ctl(_ arguments: [String]) async throws -> (status: TerminationStatus?, output: String) {
        let outputFile = scratch.path + "/ctl-\(UInt32.random(in: 0...UInt32.max)).out"
        let host = POSIXProcessHost()
        let spec = ProcessSpec(
            executable: "/bin/sh",
            arguments: ["sh", "-c", "exec \"$0\" \"$@\" >\(outputFile) 2>&1", BuildProducts.supervisor, "ctl"]
                + arguments + ["--state-dir", stateDirectory],
            environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CHAIN_ALERTER_") }
        )
        let pid = try await host.spawn(spec)
        let status = await withTaskGroup(of: TerminationStatus?.self) { group in
            group.addTask {
                for await exit in host.exits { return exit.status }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if status == nil { kill(pid, SIGKILL) }
        return (status, (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "")
    }
}

/// True while `pid` is a live (not zombie) process.
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// Runs the `supervisor` executable to completion (at most 10 s) and returns its exit status, stdout and stderr.
func runSupervisorCommand(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: TerminationStatus?, stdout: String, stderr: String) {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let host = POSIXProcessHost()
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CHAIN_ALERTER_") }
    env.merge(environment) { _, new in new }
    let pid = try await host.spawn(ProcessSpec(
        executable: "/bin/sh",
        arguments: ["sh", "-c", "exec \"$0\" \"$@\" >\(scratch.path)/out 2>\(scratch.path)/err", BuildProducts.supervisor] + arguments,
        environment: env
    ))
    let status = await withTaskGroup(of: TerminationStatus?.self) { group in
        group.addTask {
            for await exit in host.exits { return exit.status }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: .seconds(10))
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
    if status == nil { kill(pid, SIGKILL) }
    let read = { (name: String) in (try? String(contentsOfFile: scratch.path + "/" + name, encoding: .utf8)) ?? "" }
    return (status, read("out"), read("err"))
}
