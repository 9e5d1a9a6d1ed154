import ArgumentParser
import Dispatch
import Foundation
import Logging
import Synchronization
import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// `supervisor demo`: runs the whole pipeline against a simulated node, end to end, with no setup.
///
/// Starts the `devnode` executable (next to the supervisor) on a free loopback port with the bundled
/// scenario (or `--scenario FILE`), runs the normal supervisor in-process with `--slack=false
/// --node-rpc-url ws://127.0.0.1:PORT` and a temporary state directory, lets the notifier print alerts on
/// the terminal, and when the scenario ends stops the workers in order, then the devnode. Exit 0 when
/// everything stopped cleanly, 1 on a timeout or a pipeline failure.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the pipeline end to end against a simulated Subspace node (devnode) and exit when its scenario ends."
    )

    @Option(help: "Scenario file for the devnode (TOML or JSON); default: the bundled demo (about 25 s).")
    var scenario: String?

    @Option(help: "Give up after this many seconds.")
    var timeout: Int = 180

    @Option(help: "Seconds to let the pipeline finish after the scenario's last block.")
    var settle: Int = 3

    @Option(name: .customLong("http-listen"), help: "Serve /metrics, /health, /status and the status page on HOST:PORT while the demo runs (port 0: any free port).")
    var httpListen: String?

    func run() async throws {
        RunCommand.resetInheritedSignalState()
        let environment = ProcessInfo.processInfo.environment
        var logger = Logger(label: "chain-alerter.demo")
        logger.logLevel = .info
        let workerDirectory = RunCommand.workerDirectory(environment: environment)
        let devnodePath = (workerDirectory as NSString).appendingPathComponent("devnode")
        guard FileManager.default.isExecutableFile(atPath: devnodePath) else {
            FileHandle.standardError.write(Data("supervisor demo: no devnode executable at \(devnodePath); build it (swift build) or set CHAIN_ALERTER_WORKER_DIR\n".utf8))
            throw ExitCode(ConfigError.exitCode)
        }
        var template = Array("/tmp/chain-alerter-demo-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            FileHandle.standardError.write(Data("supervisor demo: cannot create a temporary state directory in /tmp\n".utf8))
            throw ExitCode(1)
        }
        let stateDirectory = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }

        // The devnode: port 0 = a free loopback port, which it prints.
        let devnode = Process()
        devnode.executableURL = URL(fileURLWithPath: devnodePath)
        devnode.arguments = ["--port", "0", "--host", "127.0.0.1"] + (scenario.map { ["--scenario", $0] } ?? [])
        let output = Pipe()
        devnode.standardOutput = output
        let progress = DevnodeProgress()
        try devnode.run()
        let reading = output.fileHandleForReading
        Thread.detachNewThread { progress.follow(reading) }
        defer {
            if devnode.isRunning {
                devnode.terminate()
                devnode.waitUntilExit()
            }
        }
        guard let url = await progress.waitForURL(timeout: .seconds(20)) else {
            FileHandle.standardError.write(Data("supervisor demo: the devnode did not start listening\n".utf8))
            throw ExitCode(1)
        }
        logger.notice("demo: devnode is up", metadata: ["url": "\(url)", "state-dir": "\(stateDirectory)"])

        // The normal pipeline, in-process, exactly as `supervisor run` would start it.
        let forwarded = ["--slack=false", "--node-rpc-url", url, "--state-dir", stateDirectory, "--name", "Demo"]
            + (httpListen.map { ["--http-listen", $0] } ?? [])
        let options = try ChainAlerterOptions.parse(forwarded)
        let configuration = try CheckConfigCommand.resolve(options)
        let lock = try StateDirectoryLock(stateDirectory: configuration.stateDirectory)
        defer { withExtendedLifetime(lock) {} }
        let lineup = WorkerLineup.make(configuration: configuration, workerDirectory: workerDirectory, forwardedArguments: forwarded,
                                       environment: environment, supervisorPID: getpid())
        let channel = try ControlServerChannel(endpoint: configuration.controlEndpoint, logger: logger)
        let settings = SupervisorSettings.fromEnvironment(environment)
        let hub = httpListen == nil ? nil : ObservationHub(nodes: configuration.nodeRPCURLs)
        var http: ObservabilityServer? = nil
        if let hub {
            let ownMetrics = WorkerMetricsExport()
            ownMetrics.bootstrap()
            do {
                http = try RunCommand.startHTTP(configuration: configuration, hub: hub, ownMetrics: ownMetrics, logger: logger)
            } catch {
                throw ExitCode(error.exitCode)
            }
        }
        defer { http?.close() }
        let supervisor = Supervisor(lineup: lineup, host: POSIXProcessHost(), channel: channel, clock: ContinuousClock(),
                                    settings: settings, logger: logger, observer: hub, onLifecycle: { _ in })
        let signals = ShutdownSignals { name in supervisor.requestShutdown(reason: "received \(name)") }
        defer { signals.cancel() }
        let settleSeconds = settle
        let limit = timeout
        let ending = Task {
            let ended = await progress.waitForEnd(timeout: .seconds(limit))
            if ended {
                logger.notice("demo: the scenario ended; letting the pipeline settle", metadata: ["seconds": "\(settleSeconds)"])
                try? await Task.sleep(for: .seconds(settleSeconds))
                supervisor.requestShutdown(reason: "demo scenario ended")
            } else {
                logger.error("demo: the scenario did not end in time", metadata: ["timeout-seconds": "\(limit)"])
                supervisor.requestShutdown(reason: "demo timeout")
            }
            return ended
        }
        let outcome = await supervisor.run()
        ending.cancel()
        let ended = await ending.value
        devnode.terminate()
        devnode.waitUntilExit()
        logger.notice("demo finished", metadata: ["outcome": "\(outcome)", "scenario-ended": "\(ended)"])
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
        if !ended { throw ExitCode(1) }
    }
}

/// Reads the devnode's standard output: echoes it, and notes its URL and the end of its scenario.
final class DevnodeProgress: Sendable {
    private struct State {
        var url: String?
        var ended = false
        var closed = false
    }

    private let state = Mutex(State())

    /// Blocking: runs on its own thread until the pipe closes.
    func follow(_ handle: FileHandle) {
        var buffer = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0a) {
                let line = String(decoding: buffer[buffer.startIndex ..< newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex ... newline)
                FileHandle.standardError.write(Data("\(line)\n".utf8))
                state.withLock { state in
                    if state.url == nil, let range = line.range(of: "url=") {
                        state.url = String(line[range.upperBound...].prefix { !$0.isWhitespace })
                    }
                    if line.contains("ended at block") { state.ended = true }
                }
            }
        }
        state.withLock { $0.closed = true }
    }

    func waitForURL(timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (url, closed) = state.withLock { ($0.url, $0.closed) }
            if let url { return url }
            if closed { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// True when the scenario ended; false on timeout, cancellation or a devnode that went away.
    func waitForEnd(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let (ended, closed) = state.withLock { ($0.ended, $0.closed) }
            if ended { return true }
            if closed { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return state.withLock { $0.ended }
    }
}
