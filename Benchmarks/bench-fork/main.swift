// Fork-worker benchmarks (release build):
//   CHAIN_ALERTER_BENCHMARKS=1 swift build -c release --scratch-path .build-release --product bench-fork
//   CHAIN_ALERTER_BENCHMARKS=1 swift build -c release --scratch-path .build-release --product fork-worker   (for 2 and 3)
//   .build-release/release/bench-fork [absorb|process|startup]
// 1. absorb: BlockSeen frames from 10 nodes absorbed by the tree in-process (envelope decode, header
//    decode + blake2b, ForkTracker), messages per second. The tree sources are symlinked from Sources/fork-worker.
// 2. process: the built fork-worker fed by 10 watcher doubles over ipc (PUSH BlockSeen, DEALER answering
//    fetches) with a 1,000-block window: end-to-end messages per second and the process's peak RSS. Fed in a
//    closed loop (at most ~2,000 blocks ahead of what has been checked). BENCH_BIN_DIR: where fork-worker is;
//    BENCH_LOG_LEVEL: the fork-worker's log level; BENCH_TRACE=1 prints every fetch and received message.
// 3. startup: devnode (1,000 blocks of history) + node-watcher + fork-worker; time from the first cursor
//    report to the 1,001st CanonicalBlock (context load of 1,000 blocks plus the first block).
import Foundation
import Logging
import Synchronization
import ForkChoice
import Wire
import WorkerRuntime
import SubstrateRuntime
import SubstratePrimitives

let logger = Logger(label: "bench-fork", factory: { _ in SwiftLogNoOpLogHandler() })
let nodes = 10

func makeDirectory() -> String {
    var template = Array("/tmp/fkb-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A chain of real SCALE headers with a side fork every 50 blocks.
func makeHeaders(count: Int) -> [(header: [UInt8], link: BlockLink, best: Bool)] {
    var out: [(header: [UInt8], link: BlockLink, best: Bool)] = []
    var parent = [UInt8](repeating: 0, count: 32)
    for n in 0 ..< count {
        func header(_ salt: UInt8) -> [UInt8] {
            BlockHeader(parentHash: parent, number: UInt64(n), stateRoot: [UInt8](repeating: salt, count: 32),
                        extrinsicsRoot: [UInt8](repeating: 1, count: 32),
                        digest: [.preRuntime(engine: Array("SUB_".utf8), data: [UInt8](repeating: 9, count: 40))]).encoded
        }
        if n % 50 == 25 {
            let side = header(2)
            out.append((side, BlockLink(header: side)!, false))
        }
        let bytes = header(1)
        let link = BlockLink(header: bytes)!
        out.append((bytes, link, true))
        parent = link.hash.bytes
    }
    return out
}

/// Every header as seen by every node: all-heads from each, new-heads from the primary.
func makeFrames(_ headers: [(header: [UInt8], link: BlockLink, best: Bool)]) -> [[UInt8]] {
    var writers = (0 ..< nodes).map { EnvelopeWriter(sender: "node-watcher-\($0)") }
    var frames: [[UInt8]] = []
    for h in headers {
        for i in 0 ..< nodes {
            let kind: SubscriptionKind = (i == 0 && h.best) ? .newHeads : .allHeads
            frames.append(try! writers[i].seal(BlockSeen(node: "ws://node-\(i)", subscription: kind, header: h.header, receivedAtMilliseconds: 0)))
        }
    }
    return frames
}

final class Progress: Sendable {
    private let counter = Mutex(0)
    var count: Int { counter.withLock { $0 } }
    func bump() -> Int { counter.withLock { $0 += 1; return $0 } }
}

func rss(pid: pid_t) -> (current: Int, peak: Int) {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Int {
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
    return (field("VmRSS:"), field("VmHWM:"))
}

// MARK: 1. absorb

func absorb() {
    let headers = makeHeaders(count: 20_000)
    let frames = makeFrames(headers)
    var best = 0.0
    for _ in 0 ..< 5 {
        var tracker = ForkTracker(settings: ForkSettings(), cursor: nil)
        var reader = EnvelopeReader(socket: "bench")
        var emitted = 0
        let start = now()
        for frame in frames {
            guard let seen = reader.open(frame, as: BlockSeen.self), let link = BlockLink(header: seen.header) else { continue }
            for action in tracker.seen(link, isBest: seen.subscription == .newHeads && seen.node == "ws://node-0") {
                switch action {
                case .fetchAncestors(let start, _): _ = tracker.ancestorsArrived(start: start, headers: [])
                case .emit: emitted += 1
                default: break
                }
            }
        }
        let rate = Double(frames.count) / (now() - start)
        best = max(best, rate)
        precondition(emitted > 19_000, "only \(emitted) blocks emitted")
    }
    print(String(format: "absorb: %d BlockSeen from %d nodes (20,000 blocks + forks, window 1000): %.0f messages/s (best of 5)",
                 frames.count, nodes, best))
    print("absorb: bench process RSS \(rss(pid: getpid()).current / 1024) MB")
}

// MARK: 2. process

/// Answers fetches from the headers table, as a watcher would.
func serveFetches(loop: BusLoop, dealer: BusSocketID, name: String, headers: [BlockHash: [UInt8]],
                  canonical: [UInt64: BlockHash]) -> Task<Void, Never> {
    Task {
        var reader = EnvelopeReader(socket: "fetch")
        var writer = EnvelopeWriter(sender: name)
        for await frame in loop.inbox(dealer) {
            guard let request = reader.open(frame.payload, as: FetchRequest.self), var hash = BlockHash(bytes: request.blockHash) else { continue }
            // chain_getBlockHash(height): the best chain's block at that height (nil height, "the best": not known here).
            if request.kind == .canonicalHash { hash = request.height.flatMap { canonical[$0] } ?? .zero }
            var block = FetchedBlock(blockHash: request.blockHash, header: headers[hash])
            switch request.kind {
            case .body: block.extrinsics = [[UInt8](repeating: 4, count: 120), [UInt8](repeating: 5, count: 200)]
            case .events: block.events = [UInt8](repeating: 0, count: 600)
            case .runtimeVersion: block.specVersion = 100
            // Opaque to the fork-worker, which forwards it once per spec version; about the size of Subspace's.
            case .metadata: block.specVersion = 100; block.metadata = [UInt8](repeating: 7, count: 250_000)
            default: break
            }
            let answer = BlockData(requestID: request.requestID, outcome: headers[hash] == nil ? .notFound : .found([block]))
            if ProcessInfo.processInfo.environment["BENCH_TRACE"] != nil { print("fetch \(name) \(request.kind) found=\(headers[hash] != nil)") }
            if let bytes = try? writer.seal(answer) { try? loop.send(bytes, on: dealer) }
        }
    }
}

// On the main thread: workers set PR_SET_PDEATHSIG, which fires when the *thread* that spawned them exits, and
// a cooperative-pool thread may be retired mid-run (the supervisor spawns from a thread that outlives the child).
@MainActor
func processBench(executableDirectory: String) async throws {
    let directory = makeDirectory()
    let headers = makeHeaders(count: 20_000)
    let table = Dictionary(headers.map { ($0.link.hash, $0.header) }, uniquingKeysWith: { a, _ in a })
    let canonical = Dictionary(headers.filter(\.best).map { ($0.link.height, $0.link.hash) }, uniquingKeysWith: { a, _ in a })
    let frames = makeFrames(headers)
    let alert = try BusLoop(name: "alert", sockets: [
        SocketSpec(name: "in", kind: .pull, attachments: [.bind(BusEndpoints.alertWorker(stateDirectory: directory))], inboxCapacity: 1 << 20),
        SocketSpec(name: "cursor", kind: .push, attachments: [.connect(BusEndpoints.blocks(stateDirectory: directory))]),
    ], logger: logger)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executableDirectory + "/fork-worker")
    var args = ["--state-dir", directory, "--slack=false"]
    for i in 0 ..< nodes { args += ["--node-rpc-url", "ws://node-\(i)"] }
    process.arguments = args
    process.environment = ["CHAIN_ALERTER_LOG_LEVEL": ProcessInfo.processInfo.environment["BENCH_LOG_LEVEL"] ?? "warning",
                           "CHAIN_ALERTER_TUNING": "fork.cursorStuck=600000"]
    try process.run()
    var watchers: [BusLoop] = []
    var servers: [Task<Void, Never>] = []
    for i in 0 ..< nodes {
        var options = SocketOptions()
        options.routingID = Array("node-watcher-\(i)".utf8)
        options.sendHighWaterMark = 100_000
        let loop = try BusLoop(name: "w\(i)", sockets: [
            SocketSpec(name: "fetch", kind: .dealer, attachments: [.connect(BusEndpoints.fetch(stateDirectory: directory))], options: options,
                       outboundCapacity: 1 << 20),
            SocketSpec(name: "blocks", kind: .push, attachments: [.connect(BusEndpoints.blocks(stateDirectory: directory))], options: options,
                       outboundCapacity: 1 << 20),
        ], logger: logger)
        var writer = EnvelopeWriter(sender: "node-watcher-\(i)")
        let status = try writer.seal(NodeStatus(node: "ws://node-\(i)", connected: true, bestHeight: 0, rpcLatencyMilliseconds: 1,
                                                observedAtMilliseconds: 0))
        try loop.send(status, on: loop.sockets[0])
        servers.append(serveFetches(loop: loop, dealer: loop.sockets[0], name: "node-watcher-\(i)", headers: table, canonical: canonical))
        watchers.append(loop)
    }
    var cursorWriter = EnvelopeWriter(sender: "alert-worker")
    try alert.send(cursorWriter.seal(CursorReport(instanceID: 1, checkedHeight: nil, checkedHash: nil, observedAtMilliseconds: 0)),
                   on: alert.sockets[1])
    try await Task.sleep(for: .milliseconds(500))
    // Counts CanonicalBlocks (the alert-worker socket also carries NodeStatus and ChainIdentity); gives up
    // after 15 s without one, so a regression shows as a short count instead of a hang.
    let progress = Progress()
    let received = Task { () -> Int in
        var reader = EnvelopeReader(socket: "alert")
        for await frame in alert.inbox(alert.sockets[0]) {
            let envelope = reader.open(frame.payload)
            if ProcessInfo.processInfo.environment["BENCH_TRACE"] != nil { print("alert got \(envelope.map { "\($0.header.messageType)" } ?? "undecodable")") }
            guard let envelope, envelope.header.messageType == .canonicalBlock else { continue }
            if progress.bump() >= 20_000 { break }
        }
        return progress.count
    }
    let watchdog = Task {
        var last = -1
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(15))
            let current = progress.count
            if current == last {
                print("process: no CanonicalBlock for 15 s after \(current); stopping the count")
                received.cancel()
                return
            }
            last = current
        }
    }
    let start = now()
    // Each node's frames go out through its own PUSH; chunks keep the outbound queues bounded.
    let perNode = (0 ..< nodes).map { i in stride(from: i, to: frames.count, by: nodes).map { frames[$0] } }
    var peak = 0
    for chunkStart in stride(from: 0, to: perNode[0].count, by: 500) {
        // Closed loop: stay at most ~2,000 blocks ahead of what has been checked, as a node catching up would
        // (a flood of 200,000 headers at once only measures how long the queues get).
        while progress.count + 2000 < chunkStart, !received.isCancelled { try await Task.sleep(for: .milliseconds(1)) }
        if received.isCancelled { break }
        for i in 0 ..< nodes {
            let chunk = Array(perNode[i][chunkStart ..< min(chunkStart + 500, perNode[i].count)])
            while (try? watchers[i].send(contentsOf: chunk, on: watchers[i].sockets[1])) == nil { try await Task.sleep(for: .milliseconds(1)) }
        }
        peak = max(peak, rss(pid: process.processIdentifier).peak)
    }
    let count = await received.value
    watchdog.cancel()
    let elapsed = now() - start
    let memory = rss(pid: process.processIdentifier)
    print(String(format: "process: %d BlockSeen from %d nodes → %d CanonicalBlocks (each fetched: body, events, version) in %.2f s: %.0f messages/s end to end",
                 frames.count, nodes, count, elapsed, Double(frames.count) / elapsed))
    print("process: fork-worker RSS \(memory.current / 1024) MB, peak (VmHWM) \(max(peak, memory.peak) / 1024) MB (10 nodes, window 1000)")
    process.terminate()
    process.waitUntilExit()
    servers.forEach { $0.cancel() }
    watchers.forEach { $0.close() }
    alert.close()
}

// MARK: 3. startup

@MainActor
func startupBench(executableDirectory: String) async throws {
    let directory = makeDirectory()
    let alert = try BusLoop(name: "alert", sockets: [
        SocketSpec(name: "in", kind: .pull, attachments: [.bind(BusEndpoints.alertWorker(stateDirectory: directory))], inboxCapacity: 1 << 20),
        SocketSpec(name: "cursor", kind: .push, attachments: [.connect(BusEndpoints.blocks(stateDirectory: directory))]),
    ], logger: logger)
    let devnode = Process()
    devnode.executableURL = URL(fileURLWithPath: executableDirectory + "/devnode")
    devnode.arguments = ["--port", "0", "--history", "1000", "--block-interval-ms", "6000"]
    let pipe = Pipe()
    devnode.standardOutput = pipe
    try devnode.run()
    var url = ""
    var buffer = Data()
    while url.isEmpty {
        let chunk = pipe.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        buffer += chunk
        for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") where line.contains("url=") {
            url = String(line.split(separator: "url=").last ?? "")
        }
    }
    let common = ["--state-dir", directory, "--slack=false", "--node-rpc-url", url]
    let watcher = Process()
    watcher.executableURL = URL(fileURLWithPath: executableDirectory + "/node-watcher")
    watcher.arguments = common + ["--watch-node", url]
    watcher.environment = ["CHAIN_ALERTER_WORKER_NAME": "node-watcher-0", "CHAIN_ALERTER_LOG_LEVEL": "warning"]
    let fork = Process()
    fork.executableURL = URL(fileURLWithPath: executableDirectory + "/fork-worker")
    fork.arguments = common
    fork.environment = ["CHAIN_ALERTER_LOG_LEVEL": "warning"]
    try fork.run()
    try watcher.run()
    try await Task.sleep(for: .milliseconds(300))
    var cursorWriter = EnvelopeWriter(sender: "alert-worker")
    let start = now()
    try alert.send(cursorWriter.seal(CursorReport(instanceID: 1, checkedHeight: nil, checkedHash: nil, observedAtMilliseconds: 0)),
                   on: alert.sockets[1])
    var count = 0
    var reader = EnvelopeReader(socket: "in")
    for await frame in alert.inbox(alert.sockets[0]) {
        if reader.open(frame.payload, as: CanonicalBlock.self) != nil { count += 1 }
        if count >= 1001 { break }
    }
    print(String(format: "startup: %d blocks (1,000 context + the first) loaded from a local devnode in %.2f s (includes the watcher's connect)",
                 count, now() - start))
    for p in [fork, watcher, devnode] { p.terminate(); p.waitUntilExit() }
    alert.close()
}

let mode = CommandLine.arguments.dropFirst().first ?? "all"
let executableDirectory = ProcessInfo.processInfo.environment["BENCH_BIN_DIR"]
    ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
if mode == "absorb" || mode == "all" { absorb() }
if mode == "process" || mode == "all" { try await processBench(executableDirectory: executableDirectory) }
if mode == "startup" || mode == "all" { try await startupBench(executableDirectory: executableDirectory) }
