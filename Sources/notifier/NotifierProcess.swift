import Foundation
import Logging
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// Start-up of the notifier process: options → configuration → token → store → `Notifier`.
/// Every configuration problem ends with exit 78 and a message that names the option and the fix.
enum NotifierProcess {
    /// Runs the notifier until `shutdown` is requested, the alert limit is reached, or a fatal error;
    /// returns the exit code.
    static func run(arguments: [String], environment: [String: String], shutdown: ShutdownSignal, logger: Logger) async -> Int32 {
        // A reader of stdout (terminal sink) that goes away must not end the process.
        signal(SIGPIPE, SIG_IGN)
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
            return fail("cannot open the store: \(error)", code: 1)
        }
        let tuning = NotifierTuning()
        let sinks = Notifier.makeSinks(configuration: configuration, token: token, tuning: tuning, logger: logger)
        // libcurl is loaded only by a notifier that talks HTTP, and then at start-up, so a missing library
        // shows now and not at the first alert. Deliveries then fail and are retried; nothing is dropped.
        if configuration.slack || !configuration.webhookURLs.isEmpty || !configuration.uptimeKumaURLs.isEmpty,
           let failure = CurlHTTPClient.load() {
            logger.error("HTTP sinks cannot deliver until libcurl loads", metadata: ["reason": "\(failure)"])
        }
        let notifier = Notifier(configuration: configuration, store: store, sinks: sinks,
                                httpClient: CurlHTTPClient(threads: 2, logger: logger), tuning: tuning, logger: logger)
        let bridge = Task {
            let reason = await shutdown.wait()
            notifier.shutdown(reason: reason)
        }
        defer { bridge.cancel() }
        return await notifier.run()
    }

    static func fail(_ message: String, code: Int32) -> Int32 {
        FileHandle.standardError.write(Data(("notifier: " + message + "\n").utf8))
        return code
    }
}
