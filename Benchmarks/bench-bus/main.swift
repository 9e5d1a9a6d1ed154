// Bus benchmarks (release build):
//   CHAIN_ALERTER_BENCHMARKS=1 swift build -c release --scratch-path .build-release
//   .build-release/release/bench-bus
// 1. Envelope throughput over ipc PUSH/PULL through BusLoop, against raw libzmq in the same run.
// 2. Round-trip latency through a ring of 4 processes (this one plus 3 re-executions as relays).
// 3. RSS of idle workers (the built notifier, alert-worker and fork-worker, each connected to a control
//    socket as under the supervisor).
// Options: BENCH_MESSAGES (default 1000000), BENCH_ROUNDS (default 5), BENCH_WORKER (one worker binary
// for the RSS figure) or BENCH_BIN_DIR (the directory of the three). Modes: `bench-bus codec | envelope | latency | rss` run one part only.
import CZeroMQ
import Foundation
import Logging
import Wire
import WorkerRuntime
import ControlPlane
import SubstratePrimitives

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

if CommandLine.arguments.count == 4, CommandLine.arguments[1] == "relay-raw" {
    // The same ring hop with blocking libzmq calls and no envelope: the floor for comparison.
    let directory = CommandLine.arguments[2]
    let index = Int(CommandLine.arguments[3])!
    let context = zmq_ctx_new()!
    let pull = zmq_socket(context, ZMQ_PULL)!
    let push = zmq_socket(context, ZMQ_PUSH)!
    zmq_bind(pull, "ipc://\(directory)/raw-ring\(index).sock")
    zmq_connect(push, "ipc://\(directory)/raw-ring\((index + 1) % 4).sock")
    FileHandle.standardOutput.write(Data("ready\n".utf8))
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let size = buffer.withUnsafeMutableBytes { zmq_recv(pull, $0.baseAddress, $0.count, 0) }
        if size < 0 { break }
        _ = buffer.withUnsafeBytes { zmq_send(push, $0.baseAddress, Int(size), 0) }
    }
    exit(0)
}

// MARK: 1. throughput

/// A raw libzmq socket handed to the one thread that uses it.
struct RawSocket: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
}

func rawThroughput(count: Int, directory: String) -> (rate: Double, cpuNanoseconds: Double) {
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
    let cpuStarted = processCPUSeconds()
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
    let cpu = processCPUSeconds() - cpuStarted
    zmq_close(push)
    zmq_close(pull)
    zmq_ctx_term(context)
    return (Double(count) / seconds(elapsed), cpu * 1e9 / Double(count))
}

/// CPU time of the whole process (all threads), in seconds. Unlike wall time it does not depend on
/// what else the machine is running, so CPU-per-message compares fairly on a shared machine.
func processCPUSeconds() -> Double {
    var usage = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &usage)
    return Double(usage.tv_sec) + Double(usage.tv_nsec) / 1e9
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// `typed`: seal and decode a `BlockSeen` (SCALE codec included); otherwise seal and open a
/// pre-encoded 200-byte payload (the envelope layer alone, as a relay or forwarder uses it).
func envelopeThroughput(count: Int, directory: String, batch: Int, typed: Bool) async throws -> (rate: Double, cpuNanoseconds: Double) {
    let endpoint = "ipc://\(directory)/envelope.sock"
    let pull = try BusLoop(name: "pull", sockets: [SocketSpec(name: "in", kind: .pull, attachments: [.bind(endpoint)], inboxCapacity: 4096)],
                           logger: logger)
    let push = try BusLoop(name: "push", sockets: [SocketSpec(name: "out", kind: .push, attachments: [.connect(endpoint)], outboundCapacity: 4096)],
                           logger: logger)
    defer { push.close(); pull.close() }
    let message = benchMessage()
    let started = ContinuousClock.now
    let cpuStarted = processCPUSeconds()
    let receiving = Task {
        var reader = EnvelopeReader(socket: "in")
        var received = 0
        for await frame in pull.inbox {
            if typed {
                if reader.open(frame.payload, as: BlockSeen.self) != nil { received += 1 }
            } else {
                if let envelope = reader.open(frame.payload), envelope.payload.count == payloadSize { received += 1 }
            }
            if received == count { break }
        }
        return received
    }
    var writer = EnvelopeWriter(sender: "bench")
    let encodedPayload = try message.encodePayload()
    var sent = 0
    var frames: [[UInt8]] = []
    frames.reserveCapacity(batch)
    while sent < count {
        frames.removeAll(keepingCapacity: true)
        for _ in 0 ..< min(batch, count - sent) {
            frames.append(typed ? try writer.seal(message) : try writer.seal(messageType: .blockSeen, payload: encodedPayload))
        }
        // Back-pressure: when the receiver is behind, these suspend until the loop has drained half the queue.
        if frames.count == 1 { try await push.sendWaiting(frames[0]) } else { try await push.sendWaiting(contentsOf: frames) }
        sent += frames.count
    }
    let received = await receiving.value
    let elapsed = ContinuousClock.now - started
    let cpu = processCPUSeconds() - cpuStarted
    precondition(received == count, "lost messages: \(received) of \(count)")
    return (Double(count) / seconds(elapsed), cpu * 1e9 / Double(count))
}

// MARK: 2. latency through 4 processes

func ringLatency(samples: Int, directory: String) async throws -> (p50: Double, p99: Double, p999: Double, max: Double) {
    var relays: [Process] = []
    // SIGKILL: children spawned by Foundation inherit a blocked signal mask, so SIGTERM may not end them.
    defer { relays.forEach { kill($0.processIdentifier, SIGKILL); $0.waitUntilExit() } }
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

func rawRingLatency(samples: Int, directory: String) throws -> (p50: Double, p99: Double) {
    var relays: [Process] = []
    // SIGKILL: children spawned by Foundation inherit a blocked signal mask, so SIGTERM may not end them.
    defer { relays.forEach { kill($0.processIdentifier, SIGKILL); $0.waitUntilExit() } }
    for index in 1 ... 3 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        process.arguments = ["relay-raw", directory, "\(index)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        _ = pipe.fileHandleForReading.availableData
        relays.append(process)
    }
    let context = zmq_ctx_new()!
    let pull = zmq_socket(context, ZMQ_PULL)!
    let push = zmq_socket(context, ZMQ_PUSH)!
    var zero: Int32 = 0
    zmq_setsockopt(pull, ZMQ_LINGER, &zero, 4)
    zmq_setsockopt(push, ZMQ_LINGER, &zero, 4)
    zmq_bind(pull, "ipc://\(directory)/raw-ring0.sock")
    zmq_connect(push, "ipc://\(directory)/raw-ring1.sock")
    var buffer = [UInt8](repeating: 0x5A, count: payloadSize)
    var latencies: [Double] = []
    let clock = ContinuousClock()
    for round in 0 ..< samples + 1000 {
        let started = clock.now
        _ = buffer.withUnsafeBytes { zmq_send(push, $0.baseAddress, $0.count, 0) }
        _ = buffer.withUnsafeMutableBytes { zmq_recv(pull, $0.baseAddress, $0.count, 0) }
        if round >= 1000 { latencies.append(seconds(clock.now - started) * 1e6) }
    }
    zmq_close(push)
    zmq_close(pull)
    latencies.sort()
    return (latencies[latencies.count / 2], latencies[latencies.count * 99 / 100])
}

// MARK: 3. idle worker RSS

/// Starts one worker the way the supervisor does (control endpoint, name, state directory, parent pid in
/// the environment), waits for 4 heartbeats and 1 s more, and reads its memory from /proc.
func idleWorkerRSS(binary: URL, role: String, directory parent: String) async throws -> (kilobytes: Int, detail: String) {
    let directory = parent + "/" + role
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let endpoint = "ipc://\(directory)/control.sock"
    let server = try ControlServer(endpoint: endpoint, logger: logger)
    defer { server.close() }
    let process = Process()
    process.executableURL = binary
    // Terminal output only: no Slack secret is needed (else the notifier exits 78 and never says hello).
    process.arguments = ["--slack=false", "--state-dir", directory]
    process.environment = [
        WorkerEnvironment.controlEndpoint: endpoint, WorkerEnvironment.workerName: role,
        WorkerEnvironment.stateDirectory: directory, WorkerEnvironment.supervisorPID: "\(getpid())",
    ]
    process.standardOutput = FileHandle.nullDevice
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
    try await Task.sleep(for: .seconds(1))
    func field(_ file: String, _ name: String) -> Int {
        let text = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/\(file)", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }
    // procfs files report size 0: read to the end through a handle.
    let maps = FileHandle(forReadingAtPath: "/proc/\(process.processIdentifier)/maps")
        .map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
    let libraries = Set(maps.split(separator: "\n").compactMap { $0.split(separator: " ").last }.filter { $0.contains(".so") }).count
    let kilobytes = field("status", "VmRSS")
    let detail = "RssAnon \(field("status", "RssAnon")) kB, RssFile \(field("status", "RssFile")) kB, Pss \(field("smaps_rollup", "Pss")) kB, "
        + "Private \(field("smaps_rollup", "Private_Clean") + field("smaps_rollup", "Private_Dirty")) kB, \(libraries) shared libraries"
    if let peer { try server.send(.shutdown(reason: "benchmark done"), to: peer) }
    process.waitUntilExit()
    return (kilobytes, detail)
}

/// The idle workers to measure: `BENCH_WORKER=/path/to/notifier` measures that one binary (e.g. a build
/// linked with --static-swift-stdlib, as the README installs it); `BENCH_BIN_DIR=DIR` measures the
/// notifier, alert-worker and fork-worker in DIR; the default is those three next to this benchmark.
func idleWorkers() -> [(role: String, binary: URL)] {
    let environment = ProcessInfo.processInfo.environment
    if let one = environment["BENCH_WORKER"] {
        let url = URL(fileURLWithPath: one)
        return [(url.lastPathComponent, url)]
    }
    let directory = environment["BENCH_BIN_DIR"].map { URL(fileURLWithPath: $0) }
        ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    return ["notifier", "alert-worker", "fork-worker"].map { ($0, directory.appendingPathComponent($0)) }
}

func reportIdleRSS(directory: String) async throws {
    for (role, binary) in idleWorkers() {
        let rss = try await idleWorkerRSS(binary: binary, role: role, directory: directory)
        print("idle worker RSS (\(role), connected, after 4 heartbeats + 1 s): VmRSS \(rss.kilobytes) kB = "
            + String(format: "%.1f", Double(rss.kilobytes) / 1024) + " MB (target <= 20 MB) [\(binary.path)]")
        print("  \(rss.detail)")
    }
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
    // Chunks of 1024 frames: memory is reused as it would be on a socket, so page faults do not dominate.
    var frames: [[UInt8]] = []
    frames.reserveCapacity(1024)
    var sealTime = Duration.zero
    var openTime = Duration.zero
    var opened = 0
    for _ in 0 ..< count / 1024 {
        frames.removeAll(keepingCapacity: true)
        let sealStart = clock.now
        for _ in 0 ..< 1024 { frames.append(try writer.seal(message)) }
        sealTime += clock.now - sealStart
        let openStart = clock.now
        for frame in frames where reader.open(frame, as: BlockSeen.self) != nil { opened += 1 }
        openTime += clock.now - openStart
    }
    let measured = count / 1024 * 1024
    precondition(opened == measured)
    print(String(format: "codec only (1 thread): seal %.0f ns/msg, open+decode %.0f ns/msg", seconds(sealTime) * 1e9 / Double(measured),
                 seconds(openTime) * 1e9 / Double(measured)))
}

if CommandLine.arguments.dropFirst().first == "codec" { exit(0) }
if CommandLine.arguments.dropFirst().first == "latency" {
    for _ in 0 ..< 3 {
        let raw = try rawRingLatency(samples: 10_000, directory: directory)
        let bus = try await ringLatency(samples: 10_000, directory: directory)
        print(String(format: "ring of 4: bus p50 %.1f us p99 %.1f us | raw p50 %.1f us p99 %.1f us", bus.p50, bus.p99, raw.p50, raw.p99))
    }
    exit(0)
}
if CommandLine.arguments.dropFirst().first == "rss" {
    try await reportIdleRSS(directory: directory)
    exit(0)
}
if CommandLine.arguments.dropFirst().first == "envelope" {
    // For profiling the envelope path alone.
    let run = try await envelopeThroughput(count: count, directory: directory, batch: 1, typed: false)
    print(String(format: "envelope: %.0f msg/s, CPU %.0f ns/msg", run.rate, run.cpuNanoseconds))
    exit(0)
}

typealias Run = (rate: Double, cpuNanoseconds: Double)
var rawRuns: [Run] = []
var envelopeRuns: [Run] = []
var typedRuns: [Run] = []
var batchRuns: [Run] = []
let rounds = Int(ProcessInfo.processInfo.environment["BENCH_ROUNDS"] ?? "") ?? 5
for _ in 0 ..< rounds {
    rawRuns.append(rawThroughput(count: count, directory: directory))
    envelopeRuns.append(try await envelopeThroughput(count: count, directory: directory, batch: 1, typed: false))
    typedRuns.append(try await envelopeThroughput(count: count, directory: directory, batch: 1, typed: true))
    batchRuns.append(try await envelopeThroughput(count: count, directory: directory, batch: 64, typed: true))
}
let raw = rawRuns.map(\.rate).max()!
let rawCPU = rawRuns.map(\.cpuNanoseconds).min()!
func line(_ title: String, _ runs: [Run]) {
    let best = runs.map(\.rate).max()!
    let cpu = runs.map(\.cpuNanoseconds).min()!
    print(String(format: "  %@ %9.0f msg/s = %5.1f %% of raw | CPU %5.0f ns/msg, raw/this = %5.1f %% | runs: %@", title, best, 100 * best / raw,
                 cpu, 100 * rawCPU / cpu, runs.map { String(format: "%.0f", $0.rate) }.joined(separator: ", ")))
}
print(String(format: "throughput, %d messages with %d-byte payloads over ipc PUSH/PULL, best of %d interleaved rounds:", count, payloadSize, rounds))
print(String(format: "  raw libzmq: zmq_send/zmq_recv, 2 threads    %9.0f msg/s                   | CPU %5.0f ns/msg                  | runs: %@", raw, rawCPU,
             rawRuns.map { String(format: "%.0f", $0.rate) }.joined(separator: ", ")))
line("envelope (pre-encoded payload), send() each", envelopeRuns)
line("+ SCALE BlockSeen codec, send() each       ", typedRuns)
line("+ SCALE BlockSeen codec, send(contentsOf:)x64", batchRuns)
print("  (target: envelope >= 50 % of raw; CPU ratio is the load-independent view on a shared machine)")

let rawLatency = try rawRingLatency(samples: 20_000, directory: directory)
let latency = try await ringLatency(samples: 20_000, directory: directory)
print("round trip through 4 processes (PUSH/PULL ring, envelope decode + re-seal at each hop, 20000 samples):")
print(String(format: "  p50 %.1f us   p99 %.1f us   p99.9 %.1f us   max %.1f us   (target p99 < 1000 us)", latency.p50, latency.p99, latency.p999, latency.max))
print(String(format: "  same ring with raw blocking libzmq and no envelope: p50 %.1f us   p99 %.1f us", rawLatency.p50, rawLatency.p99))

try await reportIdleRSS(directory: directory)
