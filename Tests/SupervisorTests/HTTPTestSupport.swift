@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a raw HTTP exchange returned.
struct RawHTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: String
    var seconds: Double
}

/// A minimal blocking HTTP/1.1 client over a POSIX socket: sends `request` verbatim (so tests can send
/// malformed requests) and reads until the server closes. `address` is `HOST:PORT` (IPv4).
func rawHTTP(_ address: String, request: String, timeout: Double = 10) throws -> RawHTTPResponse {
    guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
        throw HTTPTestError("bad address \(address)")
    }
    let host = String(address[..<colon])
    let started = ContinuousClock.now
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HTTPTestError("socket() failed") }
    defer { close(fd) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { throw HTTPTestError("bad host \(host)") }
    let connected = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw HTTPTestError("cannot connect to \(address): errno \(errno)") }
    let bytes = Array(request.utf8)
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { throw HTTPTestError("send failed: errno \(errno)") }
        sent += n
    }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { break }
        guard n > 0 else { throw HTTPTestError("recv failed or timed out: errno \(errno)") }
        received += buffer[..<n]
    }
    let seconds = ObservationHub.seconds(ContinuousClock.now - started)
    let text = String(decoding: received, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { throw HTTPTestError("no complete response head: \(text.prefix(200))") }
    let headLines = text[..<split.lowerBound].components(separatedBy: "\r\n")
    let statusParts = headLines[0].split(separator: " ")
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw HTTPTestError("bad status line \(headLines[0])") }
    var headers: [String: String] = [:]
    for line in headLines.dropFirst() {
        if let c = line.firstIndex(of: ":") {
            headers[line[..<c].lowercased()] = line[line.index(after: c)...].trimmingCharacters(in: .whitespaces)
        }
    }
    return RawHTTPResponse(status: status, headers: headers, body: String(text[split.upperBound...]), seconds: seconds)
}

func httpGet(_ address: String, _ path: String, method: String = "GET") throws -> RawHTTPResponse {
    try rawHTTP(address, request: "\(method) \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n")
}

struct HTTPTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Test tooling in a Python venv at `<package>/.build-pyvenv` (created by `.ci/setup-debian`). When it is
/// missing the test creates it; if that fails, the test fails saying how to create it.
enum PythonTooling {
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
    static var python: String { packageRoot + "/.build-pyvenv/bin/python" }
    static let howTo = "create it with: python3 -m venv .build-pyvenv && .build-pyvenv/bin/pip install prometheus_client (or run .ci/setup-debian; Debian needs apt-get install python3-venv)"

    /// The venv's python with `prometheus_client` importable.
    static func pythonWithPrometheusClient() throws -> String {
        if try run(python, ["-c", "import prometheus_client"]).status == 0 { return python }
        let created = try run("/bin/sh", ["-c", "python3 -m venv '\(packageRoot)/.build-pyvenv' && '\(packageRoot)/.build-pyvenv/bin/pip' install -q prometheus_client"])
        guard created.status == 0, try run(python, ["-c", "import prometheus_client"]).status == 0 else {
            throw HTTPTestError("no Python venv with prometheus_client at \(packageRoot)/.build-pyvenv and creating it failed (\(created.output.suffix(500))); \(howTo)")
        }
        return python
    }

    static func run(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> (status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: executable) else { return (127, "\(executable) not found") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
