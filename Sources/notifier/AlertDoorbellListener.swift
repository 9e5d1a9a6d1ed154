import Foundation
import Logging
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// The alert-worker's doorbell: a PULL socket bound at `ipc://<state-dir>/notifier.sock` that receives
/// `AlertDoorbell` after each alert commit and wakes the delivery loops. It only shortens the wait:
/// the store is the source of truth, and `DataVersionWatcher` plus the periodic poll cover a lost ring.
final class AlertDoorbellListener: Sendable {
    static func endpoint(stateDirectory: String) -> String { BusEndpoints.notifier(stateDirectory: stateDirectory) }

    private let loop: BusLoop
    private let task: Task<Void, Never>

    /// Binds the socket; nil (logged) when it cannot, in which case polling alone wakes the loops.
    init?(stateDirectory: String, wake: WakeSignal, logger: Logger) {
        let endpoint = Self.endpoint(stateDirectory: stateDirectory)
        do {
            try? FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            loop = try BusLoop(name: "notifier-doorbell",
                               sockets: [SocketSpec(name: "alert-doorbell", kind: .pull, attachments: [.bind(endpoint)])],
                               logger: logger)
        } catch {
            logger.warning("cannot bind the alert doorbell; relying on store polling", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
            return nil
        }
        let inbox = loop.inbox
        task = Task {
            var reader = EnvelopeReader(socket: "alert-doorbell")
            for await frame in inbox {
                // Malformed frames are counted and dropped by the reader; any doorbell just wakes.
                if reader.open(frame.payload, as: AlertDoorbell.self) != nil { wake.ring() }
            }
        }
        logger.debug("alert doorbell bound", metadata: ["endpoint": "\(endpoint)"])
    }

    func close() {
        loop.close()
        task.cancel()
    }
}
