import ArgumentParser
import Foundation
import Logging
import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// `supervisor ctl …`: talks to a running supervisor over its control socket.
struct CtlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Talk to a running supervisor over its control socket.",
        subcommands: [Status.self, Restart.self, Isolate.self, Restore.self]
    )

    /// Where the control socket is.
    struct Connection: ParsableArguments {
        @Option(name: .customLong("state-dir"), help: "The supervisor's state directory ($CHAIN_ALERTER_STATE_DIR, $STATE_DIRECTORY or ./state).")
        var stateDir: String?

        @Option(help: "Seconds to wait for the supervisor's answer.")
        var timeout: Double = 5

        /// The state directory as the supervisor resolves it (option > env > default).
        func stateDirectory(environment: [String: String]) -> String {
            let raw = stateDir
                ?? environment["CHAIN_ALERTER_STATE_DIR"].flatMap { $0.isEmpty ? nil : $0 }
                ?? environment["STATE_DIRECTORY"].flatMap { $0.isEmpty ? nil : $0 }
                ?? "./state"
            if raw.hasPrefix("/") { return raw }
            return FileManager.default.currentDirectoryPath + "/" + raw
        }

        func send(_ request: CtlRequest) async throws -> CtlResponse {
            let environment = ProcessInfo.processInfo.environment
            let endpoint = WorkerLineup.controlEndpoint(stateDirectory: stateDirectory(environment: environment))
            do {
                return try await CtlTransport.send(request, to: endpoint, timeout: .milliseconds(Int(timeout * 1000)))
            } catch {
                FileHandle.standardError.write(Data("supervisor ctl: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    /// `ctl status [--json]`.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every worker: pid, state, uptime, restarts, last exit.")

        @OptionGroup var connection: Connection
        @Flag(help: "Print the answer as JSON (for scripts).")
        var json = false

        func run() async throws {
            let response = try await connection.send(CtlRequest(command: "status"))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(response), as: UTF8.self))
            } else {
                print(response.message)
                print(StatusTable.render(response.workers ?? []))
            }
            if !response.ok { throw ExitCode(1) }
        }
    }

    /// `ctl restart WORKER`.
    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Gracefully restart one worker; the others are not touched.")

        @Argument(help: "The worker's name, as `ctl status` shows it (e.g. node-watcher-0).")
        var worker: String
        @OptionGroup var connection: Connection
        @Flag(help: "Print the answer as JSON (for scripts).")
        var json = false
        @Option(help: "Also wait up to this many seconds until the new process is running (READY); exit 1 if it is not.")
        var wait: Double?

        func run() async throws {
            let before = wait == nil ? nil : try await connection.send(CtlRequest(command: "status")).workers?.first { $0.name == worker }
            let response = try await connection.send(CtlRequest(command: "restart", target: worker))
            if json {
                print(String(decoding: try JSONEncoder().encode(response), as: UTF8.self))
            } else {
                print(response.message)
            }
            if !response.ok { throw ExitCode(1) }
            guard let wait else { return }
            let deadline = ContinuousClock.now + .milliseconds(Int(wait * 1000))
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                let row = try await connection.send(CtlRequest(command: "status")).workers?.first { $0.name == worker }
                if let row, row.state == "running", let pid = row.pid, pid != before?.pid {
                    if !json { print("\(worker) is running again (pid \(pid))") }
                    return
                }
            }
            FileHandle.standardError.write(Data("supervisor ctl: \(worker) is not running again after \(wait) s; see `supervisor ctl status` for its last exit\n".utf8))
            throw ExitCode(1)
        }
    }
}

extension CtlCommand {
    /// `ctl isolate NODE`.
    struct Isolate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Isolate a node by hand: its blocks stop counting, it stops being primary, its stall alerts are suppressed, until `ctl restore`.")

        @Argument(help: "The node: its URL as configured, or its watcher's name (node-watcher-N).")
        var node: String
        @OptionGroup var connection: Connection

        func run() async throws {
            let response = try await connection.send(CtlRequest(command: "isolate", target: node))
            try CtlCommand.finish(response)
        }
    }

    /// `ctl restore NODE`.
    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lift an isolation (manual or automatic) of a node.")

        @Argument(help: "The node: its URL as configured, or its watcher's name (node-watcher-N).")
        var node: String
        @OptionGroup var connection: Connection

        func run() async throws {
            let response = try await connection.send(CtlRequest(command: "restore", target: node))
            try CtlCommand.finish(response)
        }
    }

    /// Prints the answer; a refusal goes to stderr and exits 1.
    static func finish(_ response: CtlResponse) throws {
        if response.ok {
            print(response.message)
        } else {
            FileHandle.standardError.write(Data("supervisor ctl: \(response.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Sends one request to the supervisor's control socket (through the bus's `CtlClient`).
enum CtlTransport {
    static func send(_ request: CtlRequest, to endpoint: String, timeout: Duration) async throws(CtlClientError) -> CtlResponse {
        var logger = Logger(label: "chain-alerter.ctl")
        logger.logLevel = .warning
        return try await CtlClient(endpoint: endpoint, timeout: timeout, logger: logger).send(request)
    }
}
