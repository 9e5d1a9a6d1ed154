import CCurl
import Foundation
import Logging
import WorkerRuntime

/// HTTP over libcurl. `curl_easy_perform` blocks, so each client owns dedicated threads (never the Swift
/// cooperative pool); callers `await` through a continuation. Each thread keeps one easy handle, so
/// connections are reused between requests to the same host.
///
/// libcurl is loaded on first use (`CCurl` dlopens it): a process that never sends a request never maps
/// libcurl and the thirty libraries it depends on. `CurlHTTPClient.load()` loads it up front, so that a
/// notifier configured with HTTP sinks finds a missing libcurl at start-up rather than at its first alert.
public final class CurlHTTPClient: HTTPTransport {
    private let queue: JobQueue
    private let logger: Logger

    /// Loads libcurl now (once per process). Nil when it is ready, else why not (a message with no URL or secret).
    @discardableResult
    public static func load() -> String? {
        chain_curl_load().map { String(cString: $0) }
    }

    /// `threads` bounds how many requests of this client run at once. No thread touches libcurl before
    /// its first request.
    public init(threads: Int = 2, logger: Logger) {
        self.logger = logger
        queue = JobQueue()
        for i in 0 ..< max(1, threads) {
            let q = queue
            let t = Thread { Self.workerLoop(q) }
            t.name = "curl-\(i)"
            t.start()
        }
    }

    deinit { queue.close() }

    /// Performs `request`; returns any HTTP response (including 4xx/5xx) or throws when there was none.
    public func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let result: Result<HTTPResponse, HTTPClientError> = await withCheckedContinuation { c in
            queue.push(Job(request: request, complete: { c.resume(returning: $0) }))
        }
        return try result.get()
    }

    // MARK: worker threads

    struct Job: @unchecked Sendable {
        let request: HTTPRequest
        let complete: (Result<HTTPResponse, HTTPClientError>) -> Void
    }

    final class JobQueue: @unchecked Sendable {
        private let condition = NSCondition()
        private var jobs: [Job] = []
        private var closed = false

        func push(_ job: Job) {
            condition.lock(); jobs.append(job); condition.signal(); condition.unlock()
        }

        func close() {
            condition.lock(); closed = true; condition.broadcast(); condition.unlock()
        }

        /// Blocks until a job is available; nil once closed and empty.
        func pop() -> Job? {
            condition.lock()
            defer { condition.unlock() }
            while jobs.isEmpty && !closed { condition.wait() }
            if jobs.isEmpty { return nil }
            return jobs.removeFirst()
        }
    }

    private static func workerLoop(_ queue: JobQueue) {
        guard let first = queue.pop() else { return }
        // The first request loads libcurl. If that fails, every request is answered with the reason; the
        // callers (the notifier's delivery loops) keep their rows and retry, so nothing is lost.
        var handle: UnsafeMutableRawPointer? = nil
        var failure = load()
        if failure == nil {
            handle = chain_curl_easy_init()
            if handle == nil { failure = "curl_easy_init failed" }
        }
        defer { if let handle { chain_curl_easy_cleanup(handle) } }
        var next: Job? = first
        while let job = next {
            if let handle {
                job.complete(perform(handle, job.request))
            } else {
                job.complete(.failure(.transport(host: "-", code: -1, message: failure ?? "libcurl is not loaded")))
            }
            next = queue.pop()
        }
    }

    /// Accumulates the body and header lines from curl's callbacks.
    final class Sink {
        var body = Data()
        var headers: [(String, String)] = []
    }

    private static func perform(_ h: UnsafeMutableRawPointer, _ req: HTTPRequest) -> Result<HTTPResponse, HTTPClientError> {
        chain_curl_easy_reset(h)
        let host = Redaction.redactURLPath(req.url)
        let sink = Sink()
        let sinkPtr = Unmanaged.passRetained(sink)
        defer { sinkPtr.release() }

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { if headerList != nil { chain_curl_slist_free_all(headerList) } }
        for (name, value) in req.headers {
            headerList = chain_curl_slist_append(headerList, "\(name): \(value)")
        }
        if req.body != nil {
            // No `Expect: 100-continue` round trip before the body.
            headerList = chain_curl_slist_append(headerList, "Expect:")
        }
        if let token = req.bearerToken {
            var line = Array("Authorization: Bearer ".utf8)
            token.withBytes { line.append(contentsOf: $0) }
            line.append(0)
            line.withUnsafeBufferPointer { buf in
                buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { headerList = chain_curl_slist_append(headerList, $0) }
            }
            line.withUnsafeMutableBytes { memset_s_portable($0.baseAddress!, $0.count) }
        }

        _ = chain_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = chain_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(req.connectTimeout.milliseconds))
        _ = chain_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(req.totalTimeout.milliseconds))
        _ = chain_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        _ = chain_curl_setopt_long(h, CURLOPT_TCP_NODELAY, 1)
        _ = "http,https".withCString { chain_curl_setopt_ptr(h, CURLOPT_PROTOCOLS_STR, $0) }
        _ = req.url.withCString { chain_curl_setopt_ptr(h, CURLOPT_URL, $0) }
        _ = chain_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList)
        _ = chain_curl_setopt_write(h, { ptr, size, count, user in
            let n = size * count
            guard let ptr, let user else { return 0 }
            let s = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
            s.body.append(UnsafeRawPointer(ptr).assumingMemoryBound(to: UInt8.self), count: n)
            return n
        })
        _ = chain_curl_setopt_ptr(h, CURLOPT_WRITEDATA, sinkPtr.toOpaque())
        _ = chain_curl_setopt_header(h, { ptr, size, count, user in
            let n = size * count
            guard let ptr, let user else { return 0 }
            let s = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
            let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
            if line.hasPrefix("HTTP/") {
                s.headers.removeAll() // a new response (e.g. after 100 Continue) starts
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                s.headers.append((name, value))
            }
            return n
        })
        _ = chain_curl_setopt_ptr(h, CURLOPT_HEADERDATA, sinkPtr.toOpaque())

        let code: CURLcode
        if let body = req.body, req.method == "POST" {
            _ = chain_curl_setopt_long(h, CURLOPT_POST, 1)
            _ = chain_curl_setopt_long(h, CURLOPT_POSTFIELDSIZE, body.count)
            code = body.withUnsafeBytes { raw -> CURLcode in
                // POSTFIELDS is not copied; the bytes stay valid for the whole perform.
                _ = chain_curl_setopt_ptr(h, CURLOPT_POSTFIELDS, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)
                return chain_curl_easy_perform(h)
            }
        } else {
            if req.method != "GET" {
                _ = req.method.withCString { chain_curl_setopt_ptr(h, CURLOPT_CUSTOMREQUEST, $0) }
            } else {
                _ = chain_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
            }
            code = chain_curl_easy_perform(h)
        }

        guard code == CURLE_OK else {
            let message = String(cString: chain_curl_easy_strerror(code))
            switch code {
            case CURLE_COULDNT_CONNECT: return .failure(.connectionRefused(host: host))
            case CURLE_OPERATION_TIMEDOUT: return .failure(.timedOut(host: host))
            case CURLE_COULDNT_RESOLVE_HOST: return .failure(.couldNotResolve(host: host))
            default: return .failure(.transport(host: host, code: Int(code.rawValue), message: message))
            }
        }
        var status = 0
        _ = chain_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: sink.headers, body: sink.body))
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    public var milliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}
