import ArgumentParser
import Foundation
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// The node-watcher's command line: the shared options plus the node it watches.
struct WatcherArguments: ParsableArguments {
    @OptionGroup var options: ChainAlerterOptions

    @Option(name: .customLong("watch-node"), help: "The ws:// or wss:// URL of the node this watcher follows (appended by the supervisor).")
    var watchNode: String?
}

/// Resolves `WatcherSettings` from arguments and environment; every problem is a `ConfigError` (exit 78).
enum WatcherStartup {
    static let watchNodeVariable = "CHAIN_ALERTER_WATCH_NODE"
    /// PEM trust roots for a wss:// node with a private or self-signed certificate.
    static let trustRootsVariable = "CHAIN_ALERTER_WATCH_NODE_CA_FILE"

    static func settings(arguments: [String], environment: [String: String], workerName: String,
                         stateDirectory: String?) throws(ConfigError) -> WatcherSettings {
        let parsed: WatcherArguments
        do {
            parsed = try WatcherArguments.parse(arguments)
        } catch {
            throw ConfigError(option: "command line", problem: WatcherArguments.fullMessage(for: error),
                              fix: "see node-watcher --help; the supervisor passes the user's options plus --watch-node URL")
        }
        let configuration = try ConfigLoader.resolve(options: parsed.options, environment: environment)
        let url = parsed.watchNode ?? environment[watchNodeVariable].flatMap { $0.isEmpty ? nil : $0 } ?? configuration.primaryNode
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["ws", "wss"].contains(scheme),
              let host = components.encodedHost, !host.isEmpty else {  // not `host`: see ConfigLoader.checkURL
            throw ConfigError(option: "--watch-node", problem: "'\(url)' is not a ws:// or wss:// URL",
                              fix: "pass e.g. --watch-node ws://127.0.0.1:9944")
        }
        var settings = WatcherSettings(nodeURL: url, workerName: workerName,
                                       stateDirectory: stateDirectory ?? configuration.stateDirectory)
        if let file = environment[trustRootsVariable], !file.isEmpty {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ConfigError(option: trustRootsVariable, problem: "cannot read \(file)", fix: "point it at a PEM certificate file")
            }
            settings.trustRootsFile = file
        }
        return settings
    }
}
