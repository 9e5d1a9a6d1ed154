import Dispatch
import Foundation
import Logging
import Shared

/// Start-up of the notifier process: options → configuration → token → store → `Notifier`.
/// Every configuration problem ends with exit 78 and a message that names the option and the fix.
enum NotifierProcess {
    static func run(arguments: [String], environment: [String: String]) async -> Int32 {
        var logger = Logger(label: "chain_alerter.notifier")
        logger.logLevel = Logger.Level(rawValue: environment["CHAIN_ALERTER_LOG_LEVEL"] ?? "info") ?? .info
        let options: ChainAlerterOptions
        do {
            options = try ChainAlerterOptions.parse(arguments)
        } catch {
            let message = ChainAlerterOptions.fullMessage(for: error)
            let code = ChainAlerterOptions.exitCode(for: error).rawValue
            FileHandle.standardError.write(Data((message + "\n").utf8))
            return code == 0 ? 0 : ConfigError.exitCode
        }
        let configuration: Configuration
        let token: Secret?
        let store: AlertStore
        do throws(ConfigError) {
            configuration = try ConfigLoader.resolve(options: options, environment: environment)
            token = configuration.slack ? try SecretFile.read(path: configuration.slackSecretPath, option: "--slack-secret-path") : nil
        } catch {
            return fail(error.description, code: ConfigError.exitCode)
        }
        do {
            store = try AlertStore(location: configuration.store, logger: logger)
        } catch .unsupported(let error) {
            return fail(error.description, code: ConfigError.exitCode)
        } catch {
            return fail("notifier: cannot open the store: \(error)", code: 1)
        }
        let tuning = NotifierTuning()
        let sinks = Notifier.makeSinks(configuration: configuration, token: token, tuning: tuning, logger: logger)
        let notifier = Notifier(configuration: configuration, store: store, sinks: sinks,
                                httpClient: CurlHTTPClient(threads: 2, logger: logger), tuning: tuning, logger: logger)
        let signals = watchSignals { name in notifier.shutdown(reason: "received \(name)") }
        defer { signals.forEach { $0.cancel() } }
        return await notifier.run()
    }

    static func fail(_ message: String, code: Int32) -> Int32 {
        FileHandle.standardError.write(Data(("notifier: " + message + "\n").utf8))
        return code
    }

    /// SIGTERM and SIGINT ask for a graceful finish.
    static func watchSignals(_ handler: @escaping @Sendable (String) -> Void) -> [any DispatchSourceSignal] {
        let queue = DispatchQueue(label: "notifier.signals")
        return [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")].map { signo, name in
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: queue)
            source.setEventHandler { handler(name) }
            source.resume()
            return source
        }
    }
}
