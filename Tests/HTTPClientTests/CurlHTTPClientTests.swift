import Foundation
import Logging
import Testing
@testable import HTTPClient
@testable import WorkerRuntime
import TestKit

/// libcurl behind `HTTPTransport`, over real loopback HTTP to the testing kit's fake sinks, and the in-memory
/// double of the same protocol.
@Suite("HTTP transport", .serialized, .timeLimit(.minutes(1)))
struct CurlHTTPClientTests {
    @Test("a POST reaches the server with its headers and body, and the answer comes back whole")
    func postRoundTrip() async throws {
        let server = try FakeSinkServer(service: FakeSinkService())
        defer { server.stop() }
        let client: any HTTPTransport = CurlHTTPClient(threads: 1, logger: testLogger)
        let body = Data(#"{"id":"a-1"}"#.utf8)
        let response = try await client.send(HTTPRequest(method: "POST", url: server.webhook("x"),
                                                         headers: [("Content-Type", "application/json"), ("Idempotency-Key", "a-1")],
                                                         body: body))
        #expect(response.status == 200)
        #expect(response.header("content-type") == "application/json")
        let seen = try #require(server.service.requests(endpoint: "webhook").first)
        #expect((seen["headers"] as? [String: String])?["idempotency-key"] == "a-1")
        #expect((seen["body"] as? [String: Any])?["id"] as? String == "a-1")
        #expect(seen["accepted"] as? Bool == true)
    }

    @Test("the bearer token reaches Slack's double and is never recorded with the headers")
    func bearerToken() async throws {
        let server = try FakeSinkServer(service: FakeSinkService(token: "xoxb-secret"))
        defer { server.stop() }
        let client = CurlHTTPClient(threads: 1, logger: testLogger)
        let token = Secret(bytes: Array("xoxb-secret".utf8))
        let response = try await client.send(HTTPRequest(url: server.slackAPI + "auth.test", bearerToken: token))
        #expect(String(decoding: response.body, as: UTF8.self).contains(#""ok":true"#))
        let seen = try #require(server.service.requests(endpoint: "auth.test").first)
        #expect(seen["auth_ok"] as? Bool == true)
        #expect((seen["headers"] as? [String: String])?["authorization"] == nil)
    }

    @Test("connection refused and a timeout are typed errors that name the server, never the path")
    func typedFailures() async throws {
        let client = CurlHTTPClient(threads: 1, logger: testLogger)
        let closedPort = try FakeSinkServer(service: FakeSinkService())
        let port = closedPort.port
        closedPort.stop()
        do {
            _ = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/hook/secret-path"))
            Issue.record("expected connection refused")
        } catch {
            guard case .connectionRefused(let host) = error else { Issue.record("expected connection refused, got \(error)"); return }
            #expect(host.contains("127.0.0.1:\(port)"))
            #expect(!error.description.contains("secret-path"))
        }
        let slow = try FakeSinkServer(service: FakeSinkService(faults: ["webhook": ["slow:5"]]))
        defer { slow.stop() }
        do {
            _ = try await client.send(HTTPRequest(method: "POST", url: slow.webhook("secret-path"), totalTimeout: .milliseconds(300)))
            Issue.record("expected a timeout")
        } catch {
            guard case .timedOut(let host) = error else { Issue.record("expected a timeout, got \(error)"); return }
            #expect(host.contains("127.0.0.1:\(slow.port)"))
            #expect(!error.description.contains("secret-path"))
        }
    }

    @Test("the in-memory transport records requests and answers from the same fake, with no socket")
    func inMemoryTransport() async throws {
        let service = FakeSinkService(faults: ["webhook": ["429:7"]])
        let transport = InMemoryHTTPTransport(service: service, clock: ManualClock())
        let first = try await transport.send(HTTPRequest(method: "POST", url: "http://fake.invalid/hook/a", headers: [("Idempotency-Key", "k")]))
        #expect(first.status == 429)
        #expect(first.header("retry-after") == "7")
        let second = try await transport.send(HTTPRequest(method: "POST", url: "http://fake.invalid/hook/a", headers: [("Idempotency-Key", "k")]))
        #expect(second.status == 200)
        #expect(transport.requests.count == 2)
        #expect(service.requests(endpoint: "webhook").map { $0["accepted"] as? Bool } == [false, true])
    }
}
