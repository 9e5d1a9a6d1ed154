import Foundation
import HTTPClient
import Synchronization

/// An `HTTPTransport` that answers in memory: no sockets, no threads. With a `FakeSinkService` it behaves
/// like the real Slack / webhook / Kuma doubles; a slow answer sleeps on the given clock (a `ManualClock`
/// in tests), and an answer slower than the request's total timeout becomes `.timedOut`, as libcurl's would.
public final class InMemoryHTTPTransport: HTTPTransport {
    public typealias Handler = @Sendable (HTTPRequest) async throws(HTTPClientError) -> HTTPResponse

    private let handler: Handler
    private let sent = Mutex<[HTTPRequest]>([])

    public init(_ handler: @escaping Handler) {
        self.handler = handler
    }

    /// Serves `service`, sleeping on `clock` for its scripted delays.
    public convenience init<C: Clock>(service: FakeSinkService, clock: C) where C.Duration == Duration {
        self.init { request throws(HTTPClientError) -> HTTPResponse in
            var headers: [String: String] = [:]
            for (name, value) in request.headers { headers[name.lowercased()] = value }
            if let token = request.bearerToken {
                headers["authorization"] = "Bearer " + token.withBytes { String(decoding: $0, as: UTF8.self) }
            }
            let host = URLComponents(string: request.url)?.host ?? "?"
            let answer = service.respond(to: FakeRequest(method: request.method, url: request.url, headers: headers, body: request.body ?? Data()))
            if answer.delay > .zero {
                if answer.delay >= request.totalTimeout {
                    try? await clock.sleep(for: request.totalTimeout)
                    throw .timedOut(host: host)
                }
                try? await clock.sleep(for: answer.delay)
            }
            return HTTPResponse(status: answer.status, headers: answer.headers, body: answer.body)
        }
    }

    /// Every request sent so far, oldest first.
    public var requests: [HTTPRequest] { sent.withLock { $0 } }

    public func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        sent.withLock { $0.append(request) }
        return try await handler(request)
    }
}
