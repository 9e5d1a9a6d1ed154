// Bus benchmarks (release build):
//   CHAIN_ALERTER_BENCHMARKS=1 swift build -c release --scratch-path .build-release
//   .build-release/release/bench-bus
// 1. Envelope throughput over ipc PUSH/PULL through BusLoop, against raw libzmq in the same run.
// 2. Round-trip latency through a ring of 4 processes (this one plus 3 re-executions as relays).
// 3. RSS of an idle worker (the built `notifier`, connected to a control socket).
import CZeroMQ
import Foundation
import Logging
import Shared

let logger = Logger(label: "bench-bus", factory: { _ in SwiftLogNoOpLogHandler() })
let payloadSize = 200

func makeDirectory() -> String {
    var template = Array("/tmp/cab-bench-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// A data-path message whose SCALE payload is exactly `payloadSize` bytes.
func benchMessage() -> BlockSeen {
    var message = BlockSeen(node: "bench", subscription: .newHeads, header: [], receivedAtMilliseconds: 0)
    let overhead = (try? message.encodePayload().count) ?? 0
    // 1-byte node length + 5 + 1 + compact length (2 bytes for >= 64) + 8
    message.header = [UInt8](repeating: 0x5A, count: payloadSize - overhead - 1)
    return message
}

// MARK: relay mode

if CommandLine.arguments.count == 4, CommandLine.arguments[1] == "relay" {
    let directory = CommandLine.arguments[2]
    let index = Int(CommandLine.arguments[3])!
    let next = (index + 1) % 4
    let loop = try BusLoop(name: "relay", sockets: [
        SocketSpec(name: "in", kind: .pull, attachments: [.bind("ipc://\(directory)/ring\(index).sock")]),
        SocketSpec(name: "out", kind: .push, attachments: [.connect("ipc://\(directory)/ring\(next).sock")]),
    ], logger: logger)
    var reader = EnvelopeReader(socket: "in")
    var writer = EnvelopeWriter(sender: "relay-\(index)")
    FileHandle.standardOutput.write(Data("ready\n".utf8))
    for await frame in loop.inbox(loop.sockets[0]) {
        guard let message = reader.open(frame.payload, as: BlockSeen.self) else { continue }
        try loop.send(writer.seal(message), on: loop.sockets[1])
        if getppid() == 1 { break }
    }
    exit(0)
}

// MARK: 1. throughput

/// A raw libzmq socket handed to the one thread that uses it.
struct RawSocket: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
}

func rawThroughput(count: Int, directory: String) -> Double {
    let context = zmq_ctx_new()!
    let endpoint = "ipc://\(directory)/raw.sock"
    let pull = zmq_socket(context, ZMQ_PULL)!
    let push = zmq_socket(context, ZMQ_PUSH)!
    var zero: Int32 = 0
    zmq_setsockopt(pull, ZMQ_LINGER, &zero, 4)
    zmq_setsockopt(push, ZMQ_LINGER, &zero, 4)
    zmq_bind(pull, endpoint)
    zmq_connect(push, endpoint)
    let started = ContinuousClock.now
    let done = DispatchSemaphore(value: 0)
    let receiving = RawSocket(handle: pull)
    let receiver = Thread {
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0 ..< count { _ = buffer.withUnsafeMutableBytes { zmq_recv(receiving.handle, $0.baseAddress, $0.count, 0) } }
        done.signal()
    }
    receiver.start()
    // Same work per message as the envelope path minus the envelope: a fresh 200-byte buffer per send.
    for index in 0 ..< count {
        var bytes = [UInt8](repeating: 0x5A, count: payloadSize)
        bytes[0] = UInt8(truncatingIfNeeded: index)
        _ = bytes.withUnsafeBytes { zmq_send(push, $0.baseAddress, $0.count, 0) }
    }
    done.wait()
    let elapsed = ContinuousClock.now - started
    zmq_close(push)
    zmq_close(pull)
    zmq_ctx_term(context)
    return Double(count) / seconds(elapsed)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func envelopeThroughput(count: Int, directory: String, batch: Int) async throws -> Double {
    let endpoint = "ipc://\(directory)/envelope.sock"
    let pull = try BusLoop(name: "pull", sockets: [SocketSpec(name: "in", kind: .pull, attachments: [.bind(endpoint)], inboxCapacity: 4096)],
                           logger: logger)
    let push = try BusLoop(name: "push", sockets: [SocketSpec(name: "out", kind: .push, attachments: [.connect(endpoint)], outboundCapacity: 4096)],
                           logger: logger)
    defer { push.close(); pull.close() }
    let message = benchMessage()
    let started = ContinuousClock.now
    let receiving = Task {
        var reader = EnvelopeReader(socket: "in")
        var received = 0
        for await frame in pull.inbox {
            if reader.open(frame.payload, as: BlockSeen.self) != nil { received += 1 }
            if received == count { break }
        }
        return received
    }
    var writer = EnvelopeWriter(sender: "bench")
    var sent = 0
    var frames: [[UInt8]] = []
    frames.reserveCapacity(batch)
    while sent < count {
        frames.removeAll(keepingCapacity: true)
        for _ in 0 ..< min(batch, count - sent) { frames.append(try writer.seal(message)) }
        while true {
            do {
                if frames.count == 1 { try push.send(frames[0]) } else { try push.send(contentsOf: frames) }
                break
            } catch BusError.outboundQueueFull {
                // Back-pressure: the receiver is behind. Sleep briefly instead of spinning on the queue lock.
                try await Task.sleep(for: .microseconds(50))
            }
        }
        sent += frames.count
    }
    let received = await receiving.value
    let elapsed = ContinuousClock.now - started
    precondition(received == count, "lost messages: \(received) of \(count)")
    return Double(count) / seconds(elapsed)
}

// MARK: 2. latency through 4 processes

func ringLatency(samples: Int, directory: String) async throws -> (p50: Double, p99: Double, p999: Double, max: Double) {
    var relays: [Process] = []
    defer { relays.forEach { $0.terminate() } }
    for index in 1 ... 3 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        process.arguments = ["relay", directory, "\(index)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        _ = pipe.fileHandleForReading.availableData  // "ready"
        relays.append(process)
    }
    let loop = try BusLoop(name: "ring", sockets: [
        SocketSpec(name: "in", kind: .pull, attachments: [.bind("ipc://\(directory)/ring0.sock")]),
        SocketSpec(name: "out", kind: .push, attachments: [.connect("ipc://\(directory)/ring1.sock")]),
    ], logger: logger)
    defer { loop.close() }
    var writer = EnvelopeWriter(sender: "ring-0")
    var reader = EnvelopeReader(socket: "in")
    var iterator = loop.inbox(loop.sockets[0]).makeAsyncIterator()
    let message = benchMessage()
    var latencies: [Double] = []
    latencies.reserveCapacity(samples)
    let clock = ContinuousClock()
    for round in 0 ..< samples + 1000 {
        let started = clock.now
        try loop.send(writer.seal(message), on: loop.sockets[1])
        guard let frame = await iterator.next(), reader.open(frame.payload, as: BlockSeen.self) != nil else {
            fatalError("ring broke")  // benchmark harness only: our own relays, our own messages
        }
        if round >= 1000 { latencies.append(seconds(clock.now - started) * 1e6) }
    }
    latencies.sort()
    func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
    return (percentile(0.5), percentile(0.99), percentile(0.999), latencies.last ?? 0)
}

// MARK: 3. idle worker RSS

func idleWorkerRSS(directory: String) async throws -> (kilobytes: Int, worker: String) {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("notifier")
    let endpoint = "ipc://\(directory)/control.sock"
    let server = try ControlServer(endpoint: endpoint, logger: logger)
    defer { server.close() }
    let process = Process()
    process.executableURL = binary
    process.environment = [
        WorkerEnvironment.controlEndpoint: endpoint, WorkerEnvironment.workerName: "notifier",
        WorkerEnvironment.stateDirectory: directory, WorkerEnvironment.supervisorPID: "\(getpid())",
    ]
    process.standardError = FileHandle.nullDevice
    try process.run()
    var iterator = server.events.makeAsyncIterator()
    var peer: ControlPeer? = nil
    var heartbeats = 0
    while heartbeats < 4, let event = await iterator.next() {
        switch event {
        case .hello(_, let from): peer = from
        case .heartbeat: heartbeats += 1
        case .ctlRequest: break
        }
    }
    let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    if let peer { try server.send(.shutdown(reason: "benchmark done"), to: peer) }
    process.waitUntilExit()
    return (kilobytes, binary.path)
}

// MARK: main

let directory = makeDirectory()
defer { try? FileManager.default.removeItem(atPath: directory) }
let count = Int(ProcessInfo.processInfo.environment["BENCH_MESSAGES"] ?? "") ?? 1_000_000
print("bench-bus: \(ProcessInfo.processInfo.activeProcessorCount) cores, loadavg \((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?")")

do {
    // CPU cost of the envelope and SCALE codec alone, one thread, no sockets.
    let message = benchMessage()
    var writer = EnvelopeWriter(sender: "bench")
    var reader = EnvelopeReader(socket: "codec")
    let clock = ContinuousClock()
    var frames: [[UInt8]] = []
    frames.reserveCapacity(count)
    let sealStart = clock.now
    for _ in 0 ..< count { frames.append(try writer.seal(message)) }
    let sealTime = clock.now - sealStart
    let openStart = clock.now
    var opened = 0
    for frame in frames where reader.open(frame, as: BlockSeen.self) != nil { opened += 1 }
    let openTime = clock.now - openStart
    precondition(opened == count)
    print(String(format: "codec only (1 thread): seal %.0f ns/msg, open+decode %.0f ns/msg", seconds(sealTime) * 1e9 / Double(count),
                 seconds(openTime) * 1e9 / Double(count)))
}

var rawRates: [Double] = []
var singleRates: [Double] = []
var batchRates: [Double] = []
for _ in 0 ..< 3 {
    rawRates.append(rawThroughput(count: count, directory: directory))
    singleRates.append(try await envelopeThroughput(count: count, directory: directory, batch: 1))
    batchRates.append(try await envelopeThroughput(count: count, directory: directory, batch: 64))
}
func runs(_ rates: [Double]) -> String { rates.map { String(format: "%.0f", $0) }.joined(separator: ", ") }
let raw = rawRates.max()!
print(String(format: "throughput, %d x %d-byte payloads over ipc PUSH/PULL, same run, best of 3 interleaved runs:", count, payloadSize))
print(String(format: "  raw libzmq (blocking send/recv, 2 threads)  %9.0f msg/s  (runs: %@)", raw, runs(rawRates)))
print(String(format: "  envelope+BusLoop, send() per message        %9.0f msg/s  (runs: %@)  = %.1f %% of raw", singleRates.max()!, runs(singleRates), 100 * singleRates.max()! / raw))
print(String(format: "  envelope+BusLoop, send(contentsOf:) x64     %9.0f msg/s  (runs: %@)  = %.1f %% of raw", batchRates.max()!, runs(batchRates), 100 * batchRates.max()! / raw))
print("  (target: envelope >= 50 % of raw)")

let latency = try await ringLatency(samples: 20_000, directory: directory)
print("round trip through 4 processes (PUSH/PULL ring, envelope decode + re-seal at each hop, 20000 samples):")
print(String(format: "  p50 %.1f us   p99 %.1f us   p99.9 %.1f us   max %.1f us   (target p99 < 1000 us)", latency.p50, latency.p99, latency.p999, latency.max))

let rss = try await idleWorkerRSS(directory: directory)
print("idle worker RSS (\(rss.worker), after 4 heartbeats): \(rss.kilobytes) kB = \(String(format: "%.1f", Double(rss.kilobytes) / 1024)) MB (target <= 20 MB)")
