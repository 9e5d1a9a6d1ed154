import ArgumentParser
import Foundation
import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// `supervisor check-config [OPTIONS]`: resolves and validates the configuration, prints it with
/// secrets redacted, exits 0, or prints the problem and exits 78.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the options and config file and print the effective configuration (secrets redacted)."
    )

    @OptionGroup var options: ChainAlerterOptions

    func run() throws {
        let configuration = try Self.resolve(options)
        print(configuration.redactedSummary())
    }

    /// Resolves the configuration, or reports the error on stderr and exits 78.
    static func resolve(_ options: ChainAlerterOptions) throws -> Configuration {
        do {
            return try ConfigLoader.resolve(options: options, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(ConfigError.exitCode)
        }
    }
}
