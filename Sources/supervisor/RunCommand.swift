import ArgumentParser
import Dispatch
import Foundation
import Logging
import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// `supervisor [run] [OPTIONS]`: resolves the configuration, spawns the workers and keeps them
/// alive until SIGTERM/SIGINT. Exits 0 after a requested stop, 1 on escalation, 78 on bad configuration.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the supervisor (the default)."
    )

    @OptionGroup var options: ChainAlerterOptions

    func run() async throws {
        Self.resetInheritedSignalState()
        let configuration = try CheckConfigCommand.resolve(options)
        let environment = ProcessInfo.processInfo.environment
        let logger = Logger(label: "chain-alerter.supervisor")

        do {
            try FileManager.default.createDirectory(
                atPath: configuration.stateDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            logger.critical("cannot create the state directory; check --state-dir and its permissions", metadata: [
                "state-dir": "\(configuration.stateDirectory)", "error": "\(error)",
            ])
            throw ExitCode(1)
        }

        let lock: StateDirectoryLock
        do {
            lock = try StateDirectoryLock(stateDirectory: configuration.stateDirectory)
        } catch {
            logger.critical("cannot lock the state directory", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        defer { withExtendedLifetime(lock) {} }

        // Metrics of the supervisor process itself (its control socket's bus counters), before any socket exists.
        let ownMetrics = WorkerMetricsExport()
        ownMetrics.bootstrap()
        let hub = ObservationHub(nodes: configuration.nodeRPCURLs)
        let http: ObservabilityServer
        do {
            http = try Self.startHTTP(configuration: configuration, hub: hub, ownMetrics: ownMetrics, logger: logger)
        } catch {
            throw ExitCode(error.exitCode)
        }
        defer { http.close() }

        let lineup = WorkerLineup.make(
            configuration: configuration,
            workerDirectory: Self.workerDirectory(environment: environment),
            forwardedArguments: Self.forwardedArguments(CommandLine.arguments),
            environment: environment,
            supervisorPID: getpid()
        )
        let channel: ControlServerChannel
        do {
            channel = try ControlServerChannel(endpoint: configuration.controlEndpoint, logger: logger)
        } catch {
            logger.critical("cannot open the control socket", metadata: ["endpoint": "\(configuration.controlEndpoint)", "error": "\(error)"])
            throw ExitCode(1)
        }
        let systemd = SystemdLifecycle(notifier: SystemdNotifier(environment: environment)) { problem in
            logger.warning("sd_notify failed", metadata: ["error": "\(problem)"])
        }
        var settings = SupervisorSettings.fromEnvironment(environment)
        settings.notifierMayFinish = configuration.alertLimit != nil || configuration.testStartup
        let supervisor = Supervisor(
            lineup: lineup, host: POSIXProcessHost(), channel: channel, clock: ContinuousClock(),
            settings: settings, logger: logger, observer: hub,
            onLifecycle: { systemd.handle($0) }
        )
        let signals = ShutdownSignals { name in supervisor.requestShutdown(reason: "received \(name)") }
        let outcome = await supervisor.run()
        signals.cancel()
        if outcome.exitCode == 0 {
            logger.notice("supervisor exiting", metadata: ["outcome": "\(outcome)"])
        } else {
            logger.critical("supervisor exiting", metadata: ["outcome": "\(outcome)", "exit-code": "\(outcome.exitCode)"])
            throw ExitCode(outcome.exitCode)
        }
    }

    /// Binds `--http-listen` and writes the bound address to `<state-dir>/http-address`. A host that does not
    /// resolve is a configuration error (78); an address in use or not bindable exits 1 (a restart may help).
    static func startHTTP(configuration: Configuration, hub: ObservationHub, ownMetrics: WorkerMetricsExport?,
                          logger: Logger) throws(HTTPStartError) -> ObservabilityServer {
        let service = StatusService(hub: hub, store: configuration.store, ownMetrics: ownMetrics, logger: logger)
        let routes = ObservabilityRoutes(metrics: { service.metricsText() }, status: { service.status() })
        let server: ObservabilityServer
        do {
            server = try ObservabilityServer.start(listen: configuration.httpListen, routes: routes)
        } catch {
            switch error {
            case .badAddress(let address, let detail):
                let problem = ConfigError(option: "--http-listen", problem: "'\(address)' cannot be used: \(detail)",
                                          fix: "write HOST:PORT with an IP address or a resolvable host, e.g. 127.0.0.1:9616")
                FileHandle.standardError.write(Data("supervisor: configuration error: \(problem)\n".utf8))
                throw HTTPStartError(exitCode: ConfigError.exitCode)
            case .cannotListen:
                logger.critical("cannot start the HTTP server: \(error)")
                FileHandle.standardError.write(Data("supervisor: \(error)\n".utf8))
                throw HTTPStartError(exitCode: 1)
            }
        }
        do {
            try server.writeAddressFile(stateDirectory: configuration.stateDirectory)
        } catch {
            logger.warning("cannot write \(configuration.stateDirectory)/http-address", metadata: ["error": "\(error)"])
        }
        logger.notice("serving /metrics, /health, /status and the status page", metadata: ["http": "http://\(server.boundAddress)/"])
        return server
    }

    struct HTTPStartError: Error {
        var exitCode: Int32
    }

    /// A parent may have started us with SIGCHLD ignored (children would be reaped by the kernel and
    /// `waitpid` would fail) or with SIGTERM blocked (we would never hear it): undo both.
    static func resetInheritedSignalState() {
        signal(SIGCHLD, SIG_DFL)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for number in [SIGCHLD, SIGTERM, SIGINT] { sigaddset(&unblock, number) }
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// The user's option arguments, to pass verbatim to every worker (argv[0] and `run` removed).
    static func forwardedArguments(_ argv: [String]) -> [String] {
        var arguments = Array(argv.dropFirst())
        if arguments.first == "run" { arguments.removeFirst() }
        return arguments
    }

    /// `$CHAIN_ALERTER_WORKER_DIR`, else the directory of the supervisor's own executable.
    static func workerDirectory(environment: [String: String]) -> String {
        if let override = environment["CHAIN_ALERTER_WORKER_DIR"], !override.isEmpty { return override }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }
}

/// Turns SIGTERM and SIGINT into a callback (the signals themselves are ignored, so the
/// supervisor can stop its workers in order). Workers get default dispositions back at spawn.
final class ShutdownSignals {
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable (String) -> Void) {
        sources = [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")].map { number, name in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(name) }
            source.resume()
            return source
        }
    }

    func cancel() {
        sources.forEach { $0.cancel() }
    }
}
