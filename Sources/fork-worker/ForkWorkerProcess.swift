import Foundation
import Logging
import Synchronization
import ForkChoice
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// Start-up of the fork-worker process: options → configuration → sockets → `ForkWorker`, then one loop
/// over inbound frames and ticks until shutdown.
enum ForkWorkerProcess {
    static func run(arguments: [String], environment: [String: String], name: String, shutdown: ShutdownSignal,
                    logger: Logger, commands: AsyncStream<SupervisorCommand>? = nil) async -> Int32 {
        let configuration: Configuration
        switch ConfigLoader.resolve(arguments: arguments, environment: environment) {
        case .success(let resolved): configuration = resolved
        case .failure(let failure): return fail(failure.message, code: failure.code)
        }
        let tuning = Tuning.integers(scope: "fork", environment: environment)
        var settings = ForkSettings(thresholds: configuration.alerts,
                                    window: tuning["window"].map { Int($0) },
                                    gapLimit: tuning["gapLimit"].map { Int($0) })
        settings.window = max(settings.window, 16)
        let directory = configuration.stateDirectory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let loop: BusLoop
        do {
            loop = try BusLoop(name: "fork-worker", sockets: [
                // 4096 frames of headers in hand are ample (the tree absorbs several hundred thousand a second);
                // past that, ZeroMQ's high-water marks push back on the watchers, whose sends never block (a full
                // queue drops and counts; gap filling recovers the headers). Bounded memory under a flood.
                SocketSpec(name: "blocks-in", kind: .pull, attachments: [.bind(ForkWorkerEndpoints.blocks(directory))],
                           inboxCapacity: 4096),
                SocketSpec(name: "fetch", kind: .router, attachments: [.bind(ForkWorkerEndpoints.fetch(directory))]),
                SocketSpec(name: "canonical-out", kind: .push, attachments: [.connect(ForkWorkerEndpoints.alertWorker(directory))],
                           outboundCapacity: 65536),
            ], logger: logger)
        } catch {
            return fail("cannot open sockets: \(error)", code: 1)
        }
        let (blocksID, fetchID, outID) = (loop.sockets[0], loop.sockets[1], loop.sockets[2])
        let timings = ForkWorkerTimings.fromEnvironment(environment)
        let worker = ForkWorker(
            settings: settings, nodeURLs: configuration.nodeRPCURLs, rosterSettings: timings.rosterSettings(configuration.alerts),
            timings: timings, name: name, now: nowMilliseconds(), logger: logger
        ) { socket, routingID, payload in
            do {
                switch socket {
                case .fetch: try loop.send(payload, routingID: routingID, on: fetchID)
                case .alertWorker: try loop.send(payload, on: outID)
                }
            } catch {
                logger.warning("send failed", metadata: ["error": "\(error)"])
            }
        }
        logger.info("fork-worker running", metadata: ["window": "\(settings.window)", "gap_limit": "\(settings.gapLimit)",
                                                      "context": "\(settings.startupContextBlocks)"])

        var blocksReader = EnvelopeReader(socket: "blocks-in")
        var fetchReader = EnvelopeReader(socket: "fetch")
        // At most 4096 header frames wait in the merged stream; a flood of headers cannot starve the fetch
        // answers the tree needs (WorkerInputs).
        await WorkerInputs.run(bus: loop, inboxes: [.init(blocksID, inFlightLimit: 4096), .init(fetchID)],
                               tick: .milliseconds(timings.tickMilliseconds), shutdown: shutdown, commands: commands) { input in
            switch input {
            case .frame(let socket, let frame) where socket == blocksID:
                if let envelope = blocksReader.open(frame.payload) { worker.handleInbound(envelope, now: nowMilliseconds()) }
            case .frame(_, let frame):
                if let envelope = fetchReader.open(frame.payload) {
                    worker.handleFetchSocket(envelope, routingID: frame.routingID, now: nowMilliseconds())
                }
            case .command(let command):
                worker.handleCommand(command, now: nowMilliseconds())
            case .tick:
                worker.tick(now: nowMilliseconds())
            case .stop:
                break
            }
            return true
        }
        loop.close()
        return 0
    }

    static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    static func fail(_ message: String, code: Int32) -> Int32 {
        FileHandle.standardError.write(Data(("fork-worker: " + message + "\n").utf8))
        return code
    }
}
