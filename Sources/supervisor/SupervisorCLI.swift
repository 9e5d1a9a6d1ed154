import ArgumentParser
import Foundation
import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// The `supervisor` executable's root command. `run` is the default subcommand, so
/// `supervisor [OPTIONS]` runs the supervisor. The integrator adds `decode` and `demo` here.
struct SupervisorCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervisor",
        abstract: "chain-alerter: spawns and supervises the node-watcher, fork-worker, alert-worker and notifier processes.",
        discussion: "Exit codes: 0 done, 1 internal error or a worker that keeps failing, 78 bad configuration.",
        subcommands: [RunCommand.self, CheckConfigCommand.self, CtlCommand.self, DecodeCommand.self, DemoCommand.self, AlertSystemCommand.self, P2PCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

extension SupervisorCLI {
    /// Parses `CommandLine.arguments` and runs the chosen command, async commands included.
    static func start() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // A mistyped option of the supervisor is bad configuration like any other (exit 78, which
            // systemd does not restart); `ctl` keeps ArgumentParser's usage exit code.
            let code = exitCode(for: error)
            if code.rawValue == 64, CommandLine.arguments.dropFirst().first != "ctl" {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                exit(withError: ExitCode(ConfigError.exitCode))
            }
            exit(withError: error)
        }
    }
}
