import Foundation
import Logging
import Shared

/// Start-up of the alert-worker: options → configuration → store → `BlockIntake`; then one loop over
/// CanonicalBlock / ForkEvent frames, reporting the cursor to the fork-worker at start, after each commit
/// and every second, and ringing the notifier's doorbell after commits that add alerts.
enum AlertWorkerProcess {
    static func endpoint(_ directory: String) -> String { "ipc://\(directory)/alert-worker.sock" }

    static func run(arguments: [String], environment: [String: String], name: String, shutdown: ShutdownSignal,
                    logger: Logger, rules: (any BlockRules)? = nil, commands: AsyncStream<SupervisorCommand>? = nil) async -> Int32 {
        let configuration: Configuration
        switch ConfigLoader.resolve(arguments: arguments, environment: environment) {
        case .success(let resolved): configuration = resolved
        case .failure(let failure): return fail(failure.message, code: failure.code)
        }
        let directory = configuration.stateDirectory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let intake: BlockIntake
        var pipeline: AlertRulesPipeline?
        do {
            let store = try AlertStore(location: configuration.store, logger: logger)
            let window = max(1000, configuration.alerts.startupContextBlocks + 1)
            if rules == nil, environment["CHAIN_ALERTER_TEST_RULES"] == nil {
                pipeline = try AlertRulesPipeline.make(configuration: configuration, environment: environment, store: store, logger: logger)
            }
            intake = try BlockIntake(store: store, rules: rules ?? pipeline ?? defaultRules(environment, name: configuration.name),
                                     window: window, logger: logger)
        } catch StoreError.unsupported(let error) {
            return fail(error.description, code: ConfigError.exitCode)
        } catch let error as NetworksFileError {
            return fail(error.description, code: ConfigError.exitCode)
        } catch {
            return fail("cannot open the store: \(error)", code: 1)
        }
        let loop: BusLoop
        do {
            loop = try BusLoop(name: "alert-worker", sockets: [
                SocketSpec(name: "canonical-in", kind: .pull, attachments: [.bind(endpoint(directory))], inboxCapacity: 4096),
                SocketSpec(name: "cursor-out", kind: .push, attachments: [.connect("ipc://\(directory)/blocks.sock")]),
                SocketSpec(name: "doorbell-out", kind: .push, attachments: [.connect("ipc://\(directory)/notifier.sock")]),
            ], logger: logger)
        } catch {
            return fail("cannot open sockets: \(error)", code: 1)
        }
        let (inID, cursorID, doorbellID) = (loop.sockets[0], loop.sockets[1], loop.sockets[2])
        let instanceID = UInt64.random(in: 1 ... .max)
        var writer = EnvelopeWriter(sender: name)
        func sendReport() {
            let report = intake.report(instanceID: instanceID, nowMilliseconds: UInt64(Date().timeIntervalSince1970 * 1000))
            if let bytes = try? writer.seal(report) { try? loop.send(bytes, on: cursorID) }
        }
        /// Runs a store commit outside the block path and rings the notifier for its new rows. False when the store
        /// failed: the worker then exits so the supervisor restarts it from the cursor.
        func commitThenRing(_ commit: () throws -> CommitResult?) -> Bool {
            do {
                if let result = try commit(), !result.inserted.isEmpty,
                   let bytes = try? writer.seal(AlertDoorbell(highestRowID: result.lastRowID, newRows: UInt32(clamping: result.inserted.count))) {
                    try? loop.send(bytes, on: doorbellID)
                }
                return true
            } catch {
                logger.error("store failed; exiting so the supervisor restarts from the cursor", metadata: ["error": "\(error)"])
                return false
            }
        }
        sendReport()
        logger.info("alert-worker running", metadata: ["instance": "\(instanceID)", "cursor": "\(intake.cursor?.height.description ?? "none")"])

        enum Input: Sendable { case frame(BusFrame), command(SupervisorCommand), tick, stop }
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let feeders = [
            Task { for await frame in loop.inbox(inID) { continuation.yield(.frame(frame)) } },
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    continuation.yield(.tick)
                }
            },
            Task { _ = await shutdown.wait(); continuation.yield(.stop) },
            Task {
                guard let commands else { return }
                for await command in commands { continuation.yield(.command(command)) }
            },
        ]
        var reader = EnvelopeReader(socket: "canonical-in")
        var code: Int32 = 0
        loop: for await input in inputs {
            switch input {
            case .frame(let frame):
                guard let envelope = reader.open(frame.payload) else { continue }
                do {
                    let outcome: BlockIntake.Outcome
                    switch envelope.header.messageType {
                    case .canonicalBlock: outcome = try intake.receive(try envelope.decode(CanonicalBlock.self))
                    case .forkEvent: outcome = try intake.receive(try envelope.decode(ForkEvent.self))
                    case .chainIdentity:
                        try pipeline?.apply(identity: try envelope.decode(ChainIdentity.self))
                        continue
                    case .nodeVerdict:
                        let verdict = try envelope.decode(NodeVerdict.self)
                        guard let pipeline else { continue }
                        let result = try pipeline.apply(verdict: verdict, at: UInt64(Date().timeIntervalSince1970 * 1000))
                        if !result.inserted.isEmpty {
                            logger.notice("node verdict alerted", metadata: ["node": "\(verdict.node)", "ids": "\(result.inserted.joined(separator: ","))"])
                        }
                        outcome = .committed(newAlerts: result.inserted.count, lastRowID: result.lastRowID)
                    case .nodeStatus:
                        let status = try envelope.decode(NodeStatus.self)
                        if let height = status.bestHeight {
                            outcome = .committed(newAlerts: try pipeline?.observe(node: status.node, height: height, hash: [],
                                                                                   at: status.observedAtMilliseconds).inserted.count ?? 0,
                                                 lastRowID: (try? pipeline?.store.lastAlertRowID()) ?? 0)
                        } else { continue }
                    default: continue
                    }
                    if case .committed(let newAlerts, let lastRowID) = outcome, newAlerts > 0,
                       let bytes = try? writer.seal(AlertDoorbell(highestRowID: lastRowID, newRows: UInt32(clamping: newAlerts))) {
                        try? loop.send(bytes, on: doorbellID)
                    }
                    if envelope.header.messageType == .canonicalBlock { sendReport() }
                } catch let error as StoreError {
                    logger.error("store failed; exiting so the supervisor restarts from the cursor", metadata: ["error": "\(error)"])
                    code = 1
                    break loop
                } catch {
                    logger.warning("undecodable or unchecked message", metadata: ["error": "\(error)"])
                }
            case .command(let command):
                guard case .workerRestarted(let worker, let restart, let lastExit) = command, let pipeline else { continue }
                if !commitThenRing({ try pipeline.workerRestarted(worker: worker, restart: restart, lastExit: lastExit,
                                                                  at: UInt64(Date().timeIntervalSince1970 * 1000)) }) {
                    code = 1
                    break loop
                }
            case .tick:
                sendReport()
                pipeline?.publishConditions()
                if !commitThenRing({ try pipeline?.tick(now: UInt64(Date().timeIntervalSince1970 * 1000)) }) {
                    code = 1
                    break loop
                }
            case .stop:
                break loop
            }
        }
        feeders.forEach { $0.cancel() }
        loop.close()
        return code
    }

    /// `CHAIN_ALERTER_TEST_RULES=per-block` (tests only): one alert per check with an id unique to that
    /// check, so a block checked twice would leave two rows.
    static func defaultRules(_ environment: [String: String], name: String) -> any BlockRules {
        environment["CHAIN_ALERTER_TEST_RULES"] == "per-block" ? PerBlockTestRules(instance: name) : NoRules()
    }

    static func fail(_ message: String, code: Int32) -> Int32 {
        FileHandle.standardError.write(Data(("alert-worker: " + message + "\n").utf8))
        return code
    }
}

/// Test rules: one `Startup`-kind alert per checked block whose id is unique to the check itself.
final class PerBlockTestRules: BlockRules {
    let instance: String
    init(instance: String) { self.instance = instance }

    func alerts(for block: CanonicalBlock) throws -> [AlertPayload] {
        let hash = hexString(block.block.blockHash)
        return [AlertPayload(id: "check-\(hash)-\(UInt64.random(in: 0 ... .max))", kind: .startup, instance: instance,
                             network: "test", block: .init(height: block.height, hash: hash), title: "checked",
                             text: "checked", fields: ["parent": .string(hexString(block.parentHash)), "mode": .string("\(block.mode)")],
                             observedAt: "1970-01-01T00:00:00Z")]
    }

    func alerts(for event: ForkEvent) throws -> [AlertPayload] { [] }
}
