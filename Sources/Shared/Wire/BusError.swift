import CZeroMQ
import SubstratePrimitives

/// A failure of the bus transport, with enough context for an operator to act on it.
public enum BusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libzmq refused `operation` (on `endpoint`, when there is one) with `errno`.
    case zmq(operation: String, endpoint: String?, errno: Int32)
    /// A non-blocking send found the socket full (EAGAIN): the peer is slow, gone, or not connected yet.
    case wouldBlock(socket: String)
    /// The loop's outbound queue for `socket` holds `capacity` messages already; the caller must slow down or drop.
    case outboundQueueFull(socket: String, capacity: Int)
    /// The loop or socket was closed; nothing more can be sent on it.
    case closed(socket: String)
    /// An endpoint string that is not `ipc://`, `tcp://` or `inproc://`.
    case invalidEndpoint(String)
    /// A message could not be encoded into an envelope (programming error in a message type).
    case unencodable(messageType: String, detail: String)

    public var description: String {
        switch self {
        case .zmq(let operation, let endpoint, let errno):
            let reason = String(cString: zmq_strerror(errno))
            let hint: String
            switch errno {
            case ENOENT, EACCES: hint = " (does the directory of the ipc path exist and is it writable?)"
            case EADDRINUSE: hint = " (another process is bound there; is a second instance running?)"
            case ENAMETOOLONG: hint = " (ipc paths are limited to about 100 bytes; use a shorter state directory)"
            default: hint = ""
            }
            if let endpoint {
                return "ZeroMQ \(operation) on \(endpoint) failed: \(reason) (errno \(errno))\(hint)"
            }
            return "ZeroMQ \(operation) failed: \(reason) (errno \(errno))\(hint)"
        case .wouldBlock(let socket):
            return "send on \(socket) would block: its high-water mark is reached (peer slow, gone or not connected)"
        case .outboundQueueFull(let socket, let capacity):
            return "outbound queue of \(socket) is full (\(capacity) messages): the peer is not keeping up; slow down or drop"
        case .closed(let socket):
            return "bus socket \(socket) is closed"
        case .invalidEndpoint(let endpoint):
            return "invalid ZeroMQ endpoint '\(endpoint)': expected ipc://PATH, tcp://HOST:PORT or inproc://NAME"
        case .unencodable(let messageType, let detail):
            return "cannot encode \(messageType): \(detail)"
        }
    }

    /// Checks the scheme of an endpoint before libzmq sees it, so the error names the bad value.
    public static func validate(endpoint: String) throws(BusError) {
        let schemes = ["ipc://", "tcp://", "inproc://"]
        guard let scheme = schemes.first(where: { endpoint.hasPrefix($0) }), endpoint.count > scheme.count else {
            throw .invalidEndpoint(endpoint)
        }
    }
}
