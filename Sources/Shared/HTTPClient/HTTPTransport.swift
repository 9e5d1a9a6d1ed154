import Foundation
import WorkerRuntime

/// Sends one HTTP request and returns the whole response. The product's implementation is `CurlHTTPClient`
/// (libcurl on its own threads); tests use `InMemoryHTTPTransport` from the testing kit, so that a sink is
/// exercised without sockets and, with a manual clock, without waiting. The split follows NIOCore / NIOPosix /
/// NIOEmbedded: the abstraction here, the platform implementation beside it, the double in the kit.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse
}

/// One HTTP request for an `HTTPTransport`.
public struct HTTPRequest: Sendable {
    /// `GET` or `POST`.
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: Data?
    /// Sent as `Authorization: Bearer …`; the header line is built in a buffer that is zeroed afterwards.
    public var bearerToken: Secret?
    public var connectTimeout: Duration
    public var totalTimeout: Duration

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: Data? = nil,
                bearerToken: Secret? = nil, connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(10)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.bearerToken = bearerToken
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
    }
}

/// A complete HTTP response.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased, in arrival order (last response of any redirect chain).
    public var headers: [(String, String)]
    public var body: Data

    public init(status: Int, headers: [(String, String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers.map { ($0.0.lowercased(), $0.1) }
        self.body = body
    }

    /// The first header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first(where: { $0.0 == lower })?.1
    }
}

/// Why a request got no HTTP response. Messages never contain the URL's path or query (tokens live there).
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case connectionRefused(host: String)
    case timedOut(host: String)
    case couldNotResolve(host: String)
    case transport(host: String, code: Int, message: String)

    public var description: String {
        switch self {
        case .connectionRefused(let h): return "connection refused by \(h)"
        case .timedOut(let h): return "timed out talking to \(h)"
        case .couldNotResolve(let h): return "could not resolve \(h)"
        case .transport(let h, let code, let message): return "HTTP transport error \(code) with \(h): \(message)"
        }
    }
}

