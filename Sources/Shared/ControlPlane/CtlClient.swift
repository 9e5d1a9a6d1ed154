import Wire
import WorkerRuntime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Logging

/// Why `supervisor ctl` got no answer.
public enum CtlClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing answered in time. `socketFileExists` tells a stale or missing socket from a busy supervisor.
    case noReply(endpoint: String, timeout: Duration, socketFileExists: Bool?)
    /// The control socket could not be set up.
    case transport(BusError)

    public var description: String {
        switch self {
        case .noReply(let endpoint, let timeout, let socketFileExists):
            let hint: String
            switch socketFileExists {
            case false?: hint = "the socket file does not exist: is the supervisor running, with the same state directory?"
            case true?: hint = "the socket file exists but nobody answered: the supervisor may be hung, or this is a stale socket from a crashed run"
            case nil: hint = "is the supervisor running?"
            }
            return "no reply from the supervisor at \(endpoint) within \(timeout): \(hint)"
        case .transport(let error):
            return "cannot reach the supervisor's control socket: \(error)"
        }
    }
}

/// Request/response over the control socket for `supervisor ctl`: one request, one answer, with a timeout.
public struct CtlClient: Sendable {
    public let endpoint: String
    public let timeout: Duration
    private let logger: Logger
    private let context: ZMQContext

    public init(endpoint: String, timeout: Duration = .seconds(3), logger: Logger, context: ZMQContext = .shared) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.logger = logger
        self.context = context
    }

    /// Sends `request` and waits for the supervisor's `CtlResponse`, at most `timeout`.
    public func send(_ request: CtlRequest) async throws(CtlClientError) -> CtlResponse {
        let spec = SocketSpec(name: "ctl", kind: .dealer, attachments: [.connect(endpoint)], options: .control)
        var writer = EnvelopeWriter(sender: "ctl-\(getpid())")
        let frame: [UInt8]
        do {
            frame = try writer.seal(request)
        } catch {
            throw .transport(.unencodable(messageType: "\(CtlRequest.messageType)", detail: error.description))
        }
        let loop: BusLoop
        do throws(BusError) {
            loop = try BusLoop(name: "ctl", sockets: [spec], context: context, logger: logger)
            do throws(BusError) {
                try loop.send(frame)
            } catch {
                loop.close()
                throw error
            }
        } catch {
            throw .transport(error)
        }
        defer { loop.close() }
        let inbox = loop.inbox
        let logger = self.logger
        let timeout = self.timeout
        let response = await withTaskGroup(of: CtlResponse?.self) { group in
            group.addTask {
                var reader = EnvelopeReader(socket: "ctl", maxFrameSize: Envelope.controlMaxFrameSize)
                for await frame in inbox {
                    if let response = reader.open(frame.payload, as: CtlResponse.self) { return response }
                    logger.debug("unexpected frame on the ctl socket dropped")
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let response { return response }
        var exists: Bool? = nil
        if endpoint.hasPrefix("ipc://") {
            exists = FileManager.default.fileExists(atPath: String(endpoint.dropFirst("ipc://".count)))
        }
        throw .noReply(endpoint: endpoint, timeout: timeout, socketFileExists: exists)
    }
}
