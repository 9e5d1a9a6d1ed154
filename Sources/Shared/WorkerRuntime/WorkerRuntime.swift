import Wire
import SubstratePrimitives
import CLinuxShims
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Logging
import Synchronization

/// A worker's settings, read from the environment the supervisor (or systemd) gives it.
public struct WorkerConfiguration: Sendable, Equatable {
    public var role: WorkerRole
    /// Instance name; defaults to the role name (`notifier`).
    public var name: String
    /// nil: run without the control plane (started by systemd in split mode, or by hand).
    public var controlEndpoint: String?
    public var stateDirectory: String?
    /// When set, the worker exits as soon as its parent is no longer this process.
    public var supervisorPID: Int32?
    public var logLevel: Logger.Level

    public init(role: WorkerRole, name: String? = nil, controlEndpoint: String? = nil, stateDirectory: String? = nil,
                supervisorPID: Int32? = nil, logLevel: Logger.Level = .info) {
        self.role = role
        self.name = name ?? role.rawValue
        self.controlEndpoint = controlEndpoint
        self.stateDirectory = stateDirectory
        self.supervisorPID = supervisorPID
        self.logLevel = logLevel
    }

    /// Reads and checks the `WorkerEnvironment` variables. Empty values count as unset.
    public static func fromEnvironment(_ environment: [String: String], role: WorkerRole) throws(WorkerConfigurationError) -> WorkerConfiguration {
        func value(_ key: String) -> String? {
            guard let raw = environment[key], !raw.isEmpty else { return nil }
            return raw
        }
        var configuration = WorkerConfiguration(role: role)
        if let name = value(WorkerEnvironment.workerName) {
            let bad = name.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || $0 == "/" }
            if bad || name.utf8.count > EnvelopeHeader.maxSenderLength {
                throw .invalidWorkerName(name)
            }
            configuration.name = name
        }
        if let endpoint = value(WorkerEnvironment.controlEndpoint) {
            do {
                try BusEndpoints.validate(endpoint)
            } catch {
                throw .invalidControlEndpoint(endpoint)
            }
            configuration.controlEndpoint = endpoint
        }
        if let directory = value(WorkerEnvironment.stateDirectory) {
            var info = stat()
            guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw .stateDirectoryMissing(directory)
            }
            configuration.stateDirectory = directory
        }
        if let raw = value(WorkerEnvironment.supervisorPID) {
            guard let pid = Int32(raw), pid > 0 else { throw .invalidSupervisorPID(raw) }
            configuration.supervisorPID = pid
        }
        if let raw = value(WorkerEnvironment.logLevel) {
            guard let level = Logger.Level(rawValue: raw.lowercased()) else { throw .invalidLogLevel(raw) }
            configuration.logLevel = level
        }
        return configuration
    }
}

extension WorkerEnvironment {
    /// Optional log level: trace, debug, info, notice, warning, error, critical. Default info.
    public static let logLevel = "CHAIN_ALERTER_LOG_LEVEL"
}

/// A worker environment that cannot work; the worker exits 78 (EX_CONFIG), which is never retried.
public enum WorkerConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidWorkerName(String)
    case invalidControlEndpoint(String)
    case stateDirectoryMissing(String)
    case invalidSupervisorPID(String)
    case invalidLogLevel(String)

    public var description: String {
        switch self {
        case .invalidWorkerName(let name):
            "\(WorkerEnvironment.workerName)='\(name)' is not a usable worker name (no spaces, control characters or '/', at most 255 bytes)"
        case .invalidControlEndpoint(let endpoint):
            "\(WorkerEnvironment.controlEndpoint)='\(endpoint)' is not a ZeroMQ endpoint (expected ipc://PATH, tcp://HOST:PORT or inproc://NAME)"
        case .stateDirectoryMissing(let directory):
            "\(WorkerEnvironment.stateDirectory)='\(directory)' is not an existing directory"
        case .invalidSupervisorPID(let raw):
            "\(WorkerEnvironment.supervisorPID)='\(raw)' is not a process id"
        case .invalidLogLevel(let raw):
            "\(WorkerEnvironment.logLevel)='\(raw)' is not one of trace, debug, info, notice, warning, error, critical"
        }
    }
}

/// A one-shot "please stop" that any part of a worker can request and await.
public final class ShutdownSignal: Sendable {
    private let state = Mutex<(reason: String?, waiters: [CheckedContinuation<String, Never>])>((nil, []))

    public init() {}

    /// Why shutdown was requested, or nil while the worker should keep running.
    public var reason: String? { state.withLock { $0.reason } }
    public var isRequested: Bool { reason != nil }

    /// Requests shutdown; returns false if it was already requested (the first reason wins).
    @discardableResult
    public func request(reason: String) -> Bool {
        let waiters: [CheckedContinuation<String, Never>]? = state.withLock { state in
            if state.reason != nil { return nil }
            state.reason = reason
            let waiters = state.waiters
            state.waiters = []
            return waiters
        }
        guard let waiters else { return false }
        waiters.forEach { $0.resume(returning: reason) }
        return true
    }

    /// Returns the reason once shutdown is requested.
    public func wait() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let reason: String? = state.withLock { state in
                if let reason = state.reason { return reason }
                state.waiters.append(continuation)
                return nil
            }
            if let reason { continuation.resume(returning: reason) }
        }
    }
}

/// What every worker's `main` uses: configuration, logging, the control plane, signals, and never
/// outliving the supervisor.
///
/// ```swift
/// let runtime = WorkerRuntime.start(role: .notifier)
/// await runtime.run { runtime in await runtime.shutdown.wait() }
/// ```
public final class WorkerRuntime: Sendable {
    /// EX_CONFIG: the supervisor does not restart a worker that exits with it.
    public static let configurationErrorExitCode: Int32 = 78
    /// After shutdown is requested the worker gets this long to finish, then it is ended regardless,
    /// so an orphan never lingers.
    public static let shutdownGracePeriod: DispatchTimeInterval = .seconds(10)

    public let configuration: WorkerConfiguration
    public let logger: Logger
    /// nil when the worker runs without a supervisor.
    public let control: WorkerControlClient?
    /// Requested by SIGTERM/SIGINT, `SupervisorCommand.shutdown`, or the supervisor disappearing.
    public let shutdown: ShutdownSignal
    /// The Prometheus registry behind the process-wide metrics system; its exposition rides on each heartbeat.
    public let metrics: WorkerMetricsExport
    /// Supervisor commands meant for the worker's own loop (everything but `shutdown`, which the runtime
    /// handles): the fork-worker's `isolateNode`/`restoreNode`, the alert-worker's `workerRestarted`. Other workers
    /// may ignore it.
    public let workerCommands: AsyncStream<SupervisorCommand>
    private let workerCommandSink: AsyncStream<SupervisorCommand>.Continuation
    private let keepAlive = DispatchSourceHolder()
    /// Shown by the supervisor with each heartbeat (e.g. `best_height`); set it from the main actor.
    @MainActor public var heartbeatStatus: [String: String] = [:]

    private init(configuration: WorkerConfiguration, logger: Logger, control: WorkerControlClient?, metrics: WorkerMetricsExport) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.control = control
        self.shutdown = ShutdownSignal()
        (workerCommands, workerCommandSink) = AsyncStream.makeStream(of: SupervisorCommand.self, bufferingPolicy: .bufferingNewest(1024))
    }

    /// Sets the worker up from the process environment. Exits 78 with a message on stderr when the
    /// configuration is malformed, and exits at once if the supervisor is already gone.
    @MainActor
    public static func start(role: WorkerRole, environment: [String: String] = ProcessInfo.processInfo.environment) -> WorkerRuntime {
        // First thing: if the supervisor dies from here on, the kernel sends us SIGTERM.
        _ = chain_alerter_set_parent_death_signal(SIGTERM)
        let configuration: WorkerConfiguration
        do {
            configuration = try WorkerConfiguration.fromEnvironment(environment, role: role)
        } catch {
            writeToStandardError("\(role.rawValue): configuration error: \(error)\n")
            exit(configurationErrorExitCode)
        }
        if let supervisor = configuration.supervisorPID, getppid() != supervisor {
            // The supervisor died between fork and prctl; the death signal will never come.
            writeToStandardError("\(configuration.name): supervisor pid \(supervisor) is gone; exiting\n")
            exit(1)
        }

        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        // Before anything makes a metric (the control client's bus counters included).
        let metrics = WorkerMetricsExport()
        metrics.bootstrap()
        var logger = Logger(label: "chain-alerter.\(configuration.role.rawValue)")
        logger[metadataKey: "worker"] = "\(configuration.name)"

        var control: WorkerControlClient? = nil
        if let endpoint = configuration.controlEndpoint {
            do {
                control = try WorkerControlClient(endpoint: endpoint, worker: configuration.name, role: role, logger: logger)
            } catch {
                logger.critical("cannot open the control socket", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
                exit(1)
            }
        } else {
            logger.info("no \(WorkerEnvironment.controlEndpoint): running without a supervisor")
        }
        let runtime = WorkerRuntime(configuration: configuration, logger: logger, control: control, metrics: metrics)
        runtime.installSignalHandlers()
        runtime.watchSupervisor()
        // However shutdown is requested (signal, supervisor command, parent gone), the same deadline applies.
        Task { [shutdown = runtime.shutdown] in
            _ = await shutdown.wait()
            WorkerRuntime.armGraceTimer(logger: logger)
        }
        return runtime
    }

    /// Says READY, heartbeats, runs `body`, then exits: 0 when `body` returns, 1 when it throws.
    ///
    /// `body` should return once `shutdown` is requested (after finishing in-flight work). Heartbeats
    /// run on the main actor, like `body`, so a worker whose main actor is stuck stops heartbeating.
    @MainActor
    public func run(_ body: @MainActor (WorkerRuntime) async throws -> Void) async -> Never {
        var heartbeats: Task<Void, Never>? = nil
        if let control {
            do {
                try control.sendHello()
            } catch {
                logger.warning("READY not sent", metadata: ["error": "\(error)"])
            }
            let metrics = self.metrics
            heartbeats = Task { @MainActor [weak self] in
                await control.runHeartbeats(status: { self?.heartbeatStatus ?? [:] }, metrics: { metrics.exposition() })
            }
            let shutdown = self.shutdown
            let logger = self.logger
            let sink = workerCommandSink
            Task {
                for await command in control.commands {
                    switch command {
                    case .shutdown(let reason):
                        logger.info("supervisor asked to shut down", metadata: ["reason": "\(reason)"])
                        shutdown.request(reason: "supervisor: \(reason)")
                    case .isolateNode, .restoreNode, .workerRestarted:
                        sink.yield(command)
                    }
                }
                sink.finish()
            }
        }
        logger.info("worker running", metadata: ["pid": "\(getpid())"])
        var code: Int32 = 0
        do {
            try await body(self)
        } catch {
            logger.error("worker failed", metadata: ["error": "\(error)"])
            code = 1
        }
        heartbeats?.cancel()
        control?.close()
        logger.info("worker exiting", metadata: ["code": "\(code)", "reason": "\(shutdown.reason ?? "main loop returned")"])
        exit(code)
    }

    /// SIGTERM/SIGINT request a graceful shutdown; a second one ends the process at once.
    private func installSignalHandlers() {
        let queue = DispatchQueue(label: "chain-alerter.signals")
        var sources: [any DispatchSourceProtocol] = []
        for (signalNumber, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            // Ignore the default action so the dispatch source, not the kernel, decides what happens.
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            let shutdown = self.shutdown
            let logger = self.logger
            source.setEventHandler {
                if !shutdown.request(reason: "received \(name)") {
                    logger.warning("second \(name) during shutdown: exiting now")
                    _exit(1)
                }
                WorkerRuntime.armGraceTimer(logger: logger)
            }
            source.resume()
            sources.append(source)
        }
        sources.forEach(keepAlive.retain)
    }

    /// PR_SET_PDEATHSIG misses a supervisor whose spawning thread (not process) exits, or one that
    /// died before the prctl; polling getppid() covers both. Runs on a dispatch queue, not the
    /// cooperative pool, so a stuck worker still notices.
    private func watchSupervisor() {
        guard let supervisor = configuration.supervisorPID else { return }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "chain-alerter.parent-watch"))
        let shutdown = self.shutdown
        let logger = self.logger
        timer.schedule(deadline: .now() + .seconds(1), repeating: .seconds(1))
        timer.setEventHandler {
            let parent = getppid()
            if parent != supervisor, shutdown.request(reason: "supervisor pid \(supervisor) is gone (parent is now \(parent))") {
                logger.warning("supervisor is gone; shutting down")
                WorkerRuntime.armGraceTimer(logger: logger)
            }
        }
        timer.resume()
        keepAlive.retain(timer)
    }

    private static let graceArmed = Atomic<Bool>(false)

    private static func armGraceTimer(logger: Logger) {
        guard graceArmed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + shutdownGracePeriod) {
            logger.error("graceful shutdown took longer than \(shutdownGracePeriod); exiting now")
            _exit(1)
        }
    }
}

/// Dispatch sources live as long as the runtime; they are only appended to, under a lock.
private final class DispatchSourceHolder: @unchecked Sendable {
    private let lock = Mutex<Void>(())
    private var sources: [any DispatchSourceProtocol] = []

    func retain(_ source: any DispatchSourceProtocol) {
        lock.withLock { _ in sources.append(source) }
    }
}

/// Before logging is set up, errors go straight to stderr.
private func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
