import Foundation
import Logging
import Store
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// Start-up of the alert-worker: options → configuration → store → `BlockIntake`; then one loop over
/// CanonicalBlock / ForkEvent frames, reporting the cursor to the fork-worker at start, after each commit
/// and every second, and ringing the notifier's doorbell after commits that add alerts.
package enum AlertWorkerProcess {
    package static func endpoint(_ directory: String) -> String { BusEndpoints.alertWorker(stateDirectory: directory) }

    /// Runs until shutdown; returns the exit code. `rules` replaces the configured rule pipeline (tests).
    package static func run(arguments: [String], environment: [String: String], name: String, shutdown: ShutdownSignal,
                    logger: Logger, rules: (any BlockRules)? = nil, commands: AsyncStream<SupervisorCommand>? = nil,
                    wallClock: WallClock = .system) async -> Int32 {
        let configuration: Configuration
        switch ConfigLoader.resolve(arguments: arguments, environment: environment) {
        case .success(let resolved): configuration = resolved
        case .failure(let failure): return fail(failure.message, code: failure.code)
        }
        let directory = configuration.stateDirectory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let worker: AlertWorkerLoop
        do {
            let (intake, pipeline) = try openIntake(configuration: configuration, environment: environment, rules: rules, logger: logger)
            let bus = try BusLoop(name: "alert-worker", sockets: [
                SocketSpec(name: "canonical-in", kind: .pull, attachments: [.bind(endpoint(directory))], inboxCapacity: 4096),
                SocketSpec(name: "cursor-out", kind: .push, attachments: [.connect(BusEndpoints.blocks(stateDirectory: directory))]),
                SocketSpec(name: "doorbell-out", kind: .push, attachments: [.connect(BusEndpoints.notifier(stateDirectory: directory))]),
            ], logger: logger)
            worker = AlertWorkerLoop(bus: bus, intake: intake, pipeline: pipeline, name: name, wallClock: wallClock, logger: logger)
        } catch let failure as StartupFailure {
            return fail(failure.message, code: failure.code)
        } catch {
            return fail("cannot open sockets: \(error)", code: 1)
        }
        worker.sendReport()
        logger.info("alert-worker running", metadata: ["instance": "\(worker.instanceID)",
                                                        "cursor": "\(worker.intake.cursor?.height.description ?? "none")"])
        var code: Int32 = 0
        await WorkerInputs.run(bus: worker.bus, inboxes: [.init(worker.bus.sockets[0], inFlightLimit: 4096)], tick: .seconds(1),
                               shutdown: shutdown, commands: commands) { input in
            if worker.handle(input) { return true }
            code = 1
            return false
        }
        worker.bus.close()
        return code
    }

    /// Why the alert-worker could not start, with its exit code (78 for configuration, 1 otherwise).
    package struct StartupFailure: Error {
        package let message: String
        package let code: Int32
    }

    /// The store, the rule pipeline (unless `rules` replaces it) and the block intake over both.
    package static func openIntake(configuration: Configuration, environment: [String: String], rules: (any BlockRules)?,
                           logger: Logger) throws(StartupFailure) -> (BlockIntake, AlertRulesPipeline?) {
        do {
            let store = try AlertStore(location: configuration.store, logger: logger)
            let window = max(1000, configuration.alerts.startupContextBlocks + 1)
            let pipeline = rules == nil
                ? try AlertRulesPipeline.make(configuration: configuration, environment: environment, store: store, logger: logger) : nil
            let intake = try BlockIntake(store: store, rules: rules ?? pipeline ?? NoRules(), window: window, logger: logger)
            return (intake, pipeline)
        } catch StoreError.unsupported(let error) {
            throw StartupFailure(message: error.description, code: ConfigError.exitCode)
        } catch let error as NetworksFileError {
            throw StartupFailure(message: error.description, code: ConfigError.exitCode)
        } catch {
            throw StartupFailure(message: "cannot open the store: \(error)", code: 1)
        }
    }

    package static func fail(_ message: String, code: Int32) -> Int32 {
        FileHandle.standardError.write(Data(("alert-worker: " + message + "\n").utf8))
        return code
    }
}

/// The alert-worker's state between inputs: the intake, the rule pipeline and the bus it reports on.
package final class AlertWorkerLoop {
    package let bus: BusLoop
    package let intake: BlockIntake
    package let pipeline: AlertRulesPipeline?
    package let instanceID = UInt64.random(in: 1 ... .max)
    private let wallClock: WallClock
    private let logger: Logger
    private var writer: EnvelopeWriter
    private var reader = EnvelopeReader(socket: "canonical-in")

    package init(bus: BusLoop, intake: BlockIntake, pipeline: AlertRulesPipeline?, name: String, wallClock: WallClock, logger: Logger) {
        self.bus = bus
        self.intake = intake
        self.pipeline = pipeline
        self.wallClock = wallClock
        self.logger = logger
        writer = EnvelopeWriter(sender: name)
    }

    private var cursorSocket: BusSocketID { bus.sockets[1] }
    private var doorbellSocket: BusSocketID { bus.sockets[2] }

    /// Handles one input; false when the store failed (the worker then exits so the supervisor restarts it
    /// from the cursor).
    package func handle(_ input: WorkerInput) -> Bool {
        switch input {
        case .frame(_, let frame):
            guard let envelope = reader.open(frame.payload) else { return true }
            return handle(envelope)
        case .command(let command):
            guard case .workerRestarted(let worker, let restart, let lastExit) = command, let pipeline else { return true }
            return commitThenRing { try pipeline.workerRestarted(worker: worker, restart: restart, lastExit: lastExit, at: wallClock.milliseconds) }
        case .tick:
            sendReport()
            pipeline?.publishConditions()
            return commitThenRing { try pipeline?.tick(now: wallClock.milliseconds) }
        case .stop:
            return true
        }
    }

    private func handle(_ envelope: Envelope) -> Bool {
        do {
            let outcome: BlockIntake.Outcome
            switch envelope.header.messageType {
            case .canonicalBlock: outcome = try intake.receive(try envelope.decode(CanonicalBlock.self))
            case .forkEvent: outcome = try intake.receive(try envelope.decode(ForkEvent.self))
            case .chainIdentity:
                try pipeline?.apply(identity: try envelope.decode(ChainIdentity.self))
                return true
            case .nodeVerdict:
                let verdict = try envelope.decode(NodeVerdict.self)
                guard let pipeline else { return true }
                let result = try pipeline.apply(verdict: verdict, at: wallClock.milliseconds)
                if !result.inserted.isEmpty {
                    logger.notice("node verdict alerted", metadata: ["node": "\(verdict.node)", "ids": "\(result.inserted.joined(separator: ","))"])
                }
                outcome = .committed(newAlerts: result.inserted.count, lastRowID: result.lastRowID)
            case .nodeStatus:
                let status = try envelope.decode(NodeStatus.self)
                guard let height = status.bestHeight else { return true }
                outcome = .committed(newAlerts: try pipeline?.observe(node: status.node, height: height, hash: [],
                                                                       at: status.observedAtMilliseconds).inserted.count ?? 0,
                                     lastRowID: (try? pipeline?.store.lastAlertRowID()) ?? 0)
            default: return true
            }
            if case .committed(let newAlerts, let lastRowID) = outcome, newAlerts > 0 { ring(lastRowID: lastRowID, newRows: newAlerts) }
            if envelope.header.messageType == .canonicalBlock { sendReport() }
            return true
        } catch let error as StoreError {
            logger.error("store failed; exiting so the supervisor restarts from the cursor", metadata: ["error": "\(error)"])
            return false
        } catch {
            logger.warning("undecodable or unchecked message", metadata: ["error": "\(error)"])
            return true
        }
    }

    /// Tells the fork-worker how far this worker has checked.
    package func sendReport() {
        let report = intake.report(instanceID: instanceID, nowMilliseconds: wallClock.milliseconds)
        if let bytes = try? writer.seal(report) { try? bus.send(bytes, on: cursorSocket) }
    }

    private func ring(lastRowID: Int64, newRows: Int) {
        if let bytes = try? writer.seal(AlertDoorbell(highestRowID: lastRowID, newRows: UInt32(clamping: newRows))) {
            try? bus.send(bytes, on: doorbellSocket)
        }
    }

    /// Runs a store commit outside the block path and rings the notifier for its new rows. False when the store failed.
    private func commitThenRing(_ commit: () throws -> CommitResult?) -> Bool {
        do {
            if let result = try commit(), !result.inserted.isEmpty { ring(lastRowID: result.lastRowID, newRows: result.inserted.count) }
            return true
        } catch {
            logger.error("store failed; exiting so the supervisor restarts from the cursor", metadata: ["error": "\(error)"])
            return false
        }
    }
}
