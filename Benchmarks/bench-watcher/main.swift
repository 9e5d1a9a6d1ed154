// bench-watcher: catch-up throughput and RSS of the real node-watcher process against a real devnode.
//
//   CHAIN_ALERTER_BENCHMARKS=1 swift build -c release --scratch-path .build-release
//   .build-release/release/bench-watcher [--blocks 1000] [--follow-seconds 20]
//
// Plays the fork-worker: binds blocks.sock (PULL) and fetch.sock (ROUTER) in a temporary state directory,
// starts `devnode` (a chain of N blocks) and `node-watcher` from the same build directory, then
//   1. catch-up: asks the watcher for the body and the events of every block (pipelined) and times it;
//   2. follow: lets the watcher follow live blocks (every 100 ms) and samples its RSS.
import Foundation
import Logging
import Synchronization
import Wire
import WorkerRuntime
import SubstrateRuntime
import SubstratePrimitives

func argument(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count, let value = Int(args[i + 1]) { return value }
    return fallback
}

let blocks = argument("--blocks", 1000)
let followSeconds = argument("--follow-seconds", 20)
let binDirectory = ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0] as String)
let directory = (binDirectory as NSString).deletingLastPathComponent
var template = Array("/tmp/bench-watcher-XXXXXX".utf8CString)
let stateDirectory = String(cString: mkdtemp(&template)!)

func rssKilobytes(_ pid: Int32) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
    return 0
}

// The devnode: N blocks of history, a live block every 100 ms.
let devnode = Process()
devnode.executableURL = URL(fileURLWithPath: directory + "/devnode")
devnode.arguments = ["--port", "0", "--history", "\(blocks)", "--block-interval-ms", "100", "--end-at", "0"]
let devnodeOut = Pipe()
devnode.standardOutput = devnodeOut
try devnode.run()
var url = ""
var pending = Data()
while url.isEmpty {
    let chunk = devnodeOut.fileHandleForReading.availableData
    if chunk.isEmpty { fatalError("devnode exited") }
    pending.append(chunk)
    if let text = String(data: pending, encoding: .utf8), let range = text.range(of: "url=") {
        let rest = text[range.upperBound...]
        if rest.contains("\n") { url = String(rest.prefix { !$0.isWhitespace }) }
    }
}

let bus = try BusLoop(name: "bench", sockets: [
    SocketSpec(name: "blocks-in", kind: .pull, attachments: [.bind(BusEndpoints.blocks(stateDirectory: stateDirectory))], inboxCapacity: 100_000),
    SocketSpec(name: "fetch", kind: .router, attachments: [.bind(BusEndpoints.fetch(stateDirectory: stateDirectory))],
               outboundCapacity: 100_000, inboxCapacity: 100_000),
], logger: Logger(label: "bench"))

let watcher = Process()
watcher.executableURL = URL(fileURLWithPath: directory + "/node-watcher")
watcher.arguments = ["--slack=false", "--watch-node", url]
var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CHAIN_ALERTER_") }
environment["CHAIN_ALERTER_STATE_DIR"] = stateDirectory
environment["CHAIN_ALERTER_WORKER_NAME"] = "node-watcher-0"
environment["CHAIN_ALERTER_LOG_LEVEL"] = "warning"
watcher.environment = environment
try watcher.run()

let answers = Mutex<[UInt64: BlockData]>([:])
let connected = Atomic<Bool>(false)
let headersSeen = Atomic<Int>(0)
Task {
    var reader = EnvelopeReader(socket: "fetch")
    for await frame in bus.inbox(bus.sockets[1]) {
        guard let envelope = reader.open(frame.payload) else { continue }
        if let status = try? envelope.decode(NodeStatus.self), status.connected { connected.store(true, ordering: .relaxed) }
        if let data = try? envelope.decode(BlockData.self) { answers.withLock { $0[data.requestID] = data } }
    }
}
Task {
    for await _ in bus.inbox(bus.sockets[0]) { headersSeen.add(1, ordering: .relaxed) }
}
while !connected.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }

var writer = EnvelopeWriter(sender: "bench")
let routing = Array("node-watcher-0".utf8)
var nextID: UInt64 = 0
@MainActor func request(_ kind: FetchKind, _ hash: [UInt8], height: UInt64? = nil) throws -> UInt64 {
    nextID += 1
    try bus.send(try writer.seal(FetchRequest(requestID: nextID, kind: kind, blockHash: hash, height: height)), routingID: routing, on: bus.sockets[1])
    return nextID
}
@MainActor func wait(_ ids: [UInt64]) async throws -> [BlockData] {
    while true {
        let done = answers.withLock { a in ids.allSatisfy { a[$0] != nil } }
        if done { return answers.withLock { a in ids.map { a.removeValue(forKey: $0)! } } }
        try await Task.sleep(for: .microseconds(200))
    }
}

// Canonical hashes of blocks 1...N (not timed).
// Requests go out in windows of 256 at most: the watcher's inbound queue is bounded, and a ROUTER drops what
// a peer's full queue cannot take (the real fork-worker keeps 64 in flight).
@MainActor func fetchAll(_ specs: [(FetchKind, [UInt8], UInt64?)]) async throws -> [BlockData] {
    var out: [BlockData] = []
    for start in stride(from: 0, to: specs.count, by: 256) {
        let ids = try specs[start ..< min(start + 256, specs.count)].map { try request($0.0, $0.1, height: $0.2) }
        out += try await wait(ids)
    }
    return out
}
let hashes: [[UInt8]] = try await fetchAll((1 ... blocks).map { (.canonicalHash, [], UInt64($0)) }).map {
    guard case .found(let found) = $0.outcome else { fatalError("canonicalHash failed: \($0.outcome)") }
    return found[0].blockHash
}

// 1. Catch-up: body + events of every block, pipelined 256 requests at a time.
let started = ContinuousClock.now
let results = try await fetchAll(hashes.flatMap { [(FetchKind.body, $0, nil), (FetchKind.events, $0, nil)] })
let elapsed = ContinuousClock.now - started
var extrinsics = 0, eventBytes = 0
for result in results {
    guard case .found(let found) = result.outcome else { fatalError("fetch failed: \(result.outcome)") }
    extrinsics += found[0].extrinsics?.count ?? 0
    eventBytes += found[0].events?.count ?? 0
}
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let catchUpRSS = rssKilobytes(watcher.processIdentifier)
print(String(format: "catch-up: %d blocks (body + events, %d extrinsics, %d event bytes) in %.3f s = %.0f blocks/s; watcher RSS %.1f MB",
             blocks, extrinsics, eventBytes, seconds, Double(blocks) / seconds, Double(catchUpRSS) / 1024))

// 2. Follow the live chain and sample RSS.
let before = headersSeen.load(ordering: .relaxed)
var maxRSS = 0
for _ in 0 ..< followSeconds {
    try await Task.sleep(for: .seconds(1))
    maxRSS = max(maxRSS, rssKilobytes(watcher.processIdentifier))
}
print(String(format: "follow: %d s, %d messages pushed (headers + status), watcher RSS max %.1f MB (now %.1f MB)",
             followSeconds, headersSeen.load(ordering: .relaxed) - before, Double(maxRSS) / 1024,
             Double(rssKilobytes(watcher.processIdentifier)) / 1024))

watcher.terminate()
watcher.waitUntilExit()
devnode.terminate()
devnode.waitUntilExit()
bus.close()
await bus.closed()
try? FileManager.default.removeItem(atPath: stateDirectory)
