/// What went wrong talking to the node. Every case is counted under its `reason`.
enum WatcherError: Error, Sendable, Equatable, CustomStringConvertible {
    case connectFailed(url: String, detail: String)
    case disconnected
    case rpc(method: String, code: Int64, message: String)
    case timeout(method: String, after: Duration)
    case tooManyOutstanding(limit: Int)
    case invalidResponse(method: String, detail: String)
    case invalidHeader(String)

    var reason: WatcherErrorReason {
        switch self {
        case .connectFailed: .connectFailed
        case .disconnected: .connectionLost
        case .rpc: .rpcError
        case .timeout: .timeout
        case .tooManyOutstanding: .tooManyOutstanding
        case .invalidResponse: .invalidResponse
        case .invalidHeader: .invalidHeader
        }
    }

    var description: String {
        switch self {
        case .connectFailed(let url, let detail):
            "cannot connect to \(url): \(detail); check that the node is running and --watch-node/--node-rpc-url is right"
        case .disconnected:
            "the node connection closed"
        case .rpc(let method, let code, let message):
            "\(method) failed on the node: \(message) (JSON-RPC error \(code))"
        case .timeout(let method, let after):
            "\(method) got no answer within \(after); the node is overloaded or stuck"
        case .tooManyOutstanding(let limit):
            "more than \(limit) requests are already waiting for this node"
        case .invalidResponse(let method, let detail):
            "\(method) returned something unexpected: \(detail)"
        case .invalidHeader(let detail):
            "the node sent a header that does not encode: \(detail)"
        }
    }
}
