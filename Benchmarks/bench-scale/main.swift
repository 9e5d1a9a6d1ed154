// bench-scale: decoding throughput, metadata parse time and peak memory of the SCALE codec, side by side with
// py-scalecodec 1.2.12 on the same V14 blocks.
//
//   CHAIN_ALERTER_BENCHMARKS=1 swift build -c release --product bench-scale --scratch-path .build-release
//   .build-release/release/bench-scale [--seconds S] [--python PATH] [--conformance DIR]
import Foundation
import SubstrateRuntime
import SubstratePrimitives

struct Options {
    var seconds = 1.0
    var python: String?
    var conformance: String?
    /// Only blocks whose file name contains this text (for profiling one block).
    var only: String?
    var json = true

    init(_ arguments: [String]) {
        var i = 1
        while i < arguments.count {
            let value: String? = i + 1 < arguments.count ? arguments[i + 1] : nil
            switch arguments[i] {
            case "--seconds": seconds = Double(value ?? "") ?? seconds; i += 1
            case "--python": python = value; i += 1
            case "--conformance": conformance = value; i += 1
            case "--only": only = value; i += 1
            case "--no-json": json = false
            default: break
            }
            i += 1
        }
    }
}

struct BenchBlock {
    let file: String
    let metadataFile: String
    let header: [UInt8]
    let extrinsics: [[UInt8]]
    let events: [UInt8]?
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("bench-scale: \(message)\n".utf8))
    exit(1)
}

func peakMemoryKiB() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
    return nil
}

/// CPU time of this thread: four engineers share two cores, so wall-clock rates would mostly measure the neighbours.
/// The Python side measures with `time.thread_time()` for the same reason.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let options = Options(CommandLine.arguments)
let conformance = options.conformance ?? ProcessInfo.processInfo.environment["CHAIN_ALERTER_CONFORMANCE"]
    ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/conformance").path
let substrate = URL(fileURLWithPath: conformance).appendingPathComponent("substrate")
guard FileManager.default.fileExists(atPath: substrate.appendingPathComponent("metadata").path) else {
    fail("conformance data not found at \(substrate.path); pass --conformance DIR or set CHAIN_ALERTER_CONFORMANCE")
}

func read(_ relative: String) -> [UInt8] {
    guard let data = try? Data(contentsOf: substrate.appendingPathComponent(relative)) else { fail("cannot read \(relative)") }
    return [UInt8](data)
}

// MARK: Metadata parse time

print("== metadata parse (release build) ==")
for file in ["polkadot_spec2000000_v15.scale", "polkadot_spec1000001_v14.scale", "chronos_spec6_v14.scale"] {
    let bytes = read("metadata/\(file)")
    var samples: [Double] = []
    for _ in 0 ..< 15 {
        let start = now()
        guard (try? RuntimeMetadata(bytes: bytes)) != nil else { fail("\(file) does not parse") }
        samples.append(now() - start)
    }
    samples.sort()
    print(String(format: "%@ (%d KB): median %.2f ms, min %.2f ms over %d parses", file, bytes.count / 1024, samples[samples.count / 2] * 1000, samples[0] * 1000, samples.count))
}

// MARK: Blocks

var blocks: [BenchBlock] = []
for folder in ["blocks", "subspace"] {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: substrate.appendingPathComponent(folder).path)) ?? [])
        .filter { $0.hasSuffix(".json") && $0 != "chain.json" }.sorted()
    for name in names {
        guard let json = try? JSONValue.parse(read("\(folder)/\(name)")),
              case .string(let metadataFile)? = json["metadata"], case .string(let headerHex)? = json["header_scale"],
              case .array(let xs)? = json["extrinsics"], let header = Hex.decode(headerHex) else { fail("bad block file \(name)") }
        let extrinsics = xs.compactMap { v -> [UInt8]? in if case .string(let s) = v { return Hex.decode(s) } else { return nil } }
        var events: [UInt8]?
        if case .string(let e)? = json["events_storage_hex"] { events = Hex.decode(e) }
        if let only = options.only, !name.contains(only) { continue }
        blocks.append(BenchBlock(file: "\(folder)/\(name)", metadataFile: metadataFile, header: header, extrinsics: extrinsics, events: events))
    }
}

var metadataByFile: [String: RuntimeMetadata] = [:]
for block in blocks where metadataByFile[block.metadataFile] == nil {
    guard let m = try? RuntimeMetadata(bytes: read("metadata/\(block.metadataFile)")) else { fail("metadata \(block.metadataFile) does not parse") }
    metadataByFile[block.metadataFile] = m
}

/// Decodes header, extrinsics and events; returns the number of events. With `normalize`, also builds the JSON.
@inline(never)
func decodeBlock(_ block: BenchBlock, _ metadata: RuntimeMetadata, normalize: Bool) throws -> Int {
    let header = try BlockHeader(scale: block.header)
    var sink = header.number
    for (i, bytes) in block.extrinsics.enumerated() {
        let x = try metadata.decodeExtrinsic(bytes)
        sink &+= UInt64(x.call.callIndex)
        if normalize { sink &+= UInt64(NormalizedJSON.extrinsic(x, index: i).rendered().utf8.count) }
    }
    var count = 0
    if let events = block.events {
        let decoded = try metadata.decodeEvents(events)
        count = decoded.count
        if normalize { sink &+= UInt64(JSONValue.array(decoded.map(NormalizedJSON.event)).rendered().utf8.count) }
    }
    if sink == UInt64.max { print("") } // keeps the work observable to the optimizer
    return count
}

struct Rate { var blocksPerSecond: Double; var eventsPerSecond: Double }

@MainActor
func measure(_ block: BenchBlock, normalize: Bool) -> Rate {
    guard let metadata = metadataByFile[block.metadataFile] else { fail("no metadata for \(block.file)") }
    do {
        _ = try decodeBlock(block, metadata, normalize: normalize)
    } catch {
        fail("\(block.file) does not decode: \(error)")
    }
    var runs = 0
    var events = 0
    let start = now()
    var elapsed = 0.0
    repeat {
        events += (try? decodeBlock(block, metadata, normalize: normalize)) ?? 0
        runs += 1
        elapsed = now() - start
    } while elapsed < options.seconds
    return Rate(blocksPerSecond: Double(runs) / elapsed, eventsPerSecond: Double(events) / elapsed)
}

// py-scalecodec, run first so its figures can be printed next to ours.
struct PyResult { var rates: [String: Rate] = [:]; var metadataSeconds: Double?; var note: String }
@MainActor
func runPython() -> PyResult {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("py_scalecodec_bench.py").path
    let venv = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build-pyvenv/bin/python").path
    let python = options.python ?? ProcessInfo.processInfo.environment["CHAIN_ALERTER_PYTHON"]
        ?? (FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/env")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = (python == "/usr/bin/env" ? ["python3"] : []) + [script, conformance, String(options.seconds)]
    let pipe = Pipe()
    let errorPipe = Pipe()
    process.standardOutput = pipe
    process.standardError = errorPipe
    do { try process.run() } catch { return PyResult(note: "py-scalecodec not run: cannot start \(python): \(error)") }
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    let errorOutput = errorPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let json = try? JSONValue.parse([UInt8](output)) else {
        let reason = String(decoding: errorOutput.suffix(300), as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "exit \(process.terminationStatus)"
        return PyResult(note: "py-scalecodec unavailable (\(reason)); install with: python3 -m venv .build-pyvenv && .build-pyvenv/bin/pip install scalecodec==1.2.12")
    }
    var result = PyResult(note: "")
    if case .string(let library)? = json["library"] { result.note = library }
    if case .double(let s)? = json["metadata_parse_seconds"]?["seconds"] { result.metadataSeconds = s }
    if case .array(let items)? = json["blocks"] {
        for item in items {
            guard case .string(let file)? = item["file"] else { continue }
            func number(_ v: JSONValue?) -> Double? {
                switch v { case .double(let d)?: d; case .integer(let i)?: Double(i); default: nil }
            }
            if let b = number(item["blocks_per_second"]), let e = number(item["events_per_second"]) {
                result.rates[file] = Rate(blocksPerSecond: b, eventsPerSecond: e)
            }
        }
    }
    return result
}

print("\n== py-scalecodec 1.2.12 on the same V14 blocks (same run) ==")
let py = runPython()
print(py.note)
if let s = py.metadataSeconds { print(String(format: "py-scalecodec metadata parse, polkadot_spec1000001_v14.scale: %.0f ms", s * 1000)) }

print("\n== block decoding (header + extrinsics + events into dynamic values; release build; \(options.seconds) s per block) ==")
print("block".padding(toLength: 40, withPad: " ", startingAt: 0) + "  xts  evts      blocks/s      events/s  +JSON blocks/s   py blocks/s   speed-up")
var totalBlocks = 0.0
var totalEvents = 0.0
var totalWeight = 0.0
var ratios: [Double] = []
// Time to decode each V14 block once, summed, for both decoders: the aggregate speed-up over the shared block set.
var ourSecondsForPyBlocks = 0.0
var pySeconds = 0.0
for block in blocks {
    let rate = measure(block, normalize: false)
    let withJSON = options.json ? measure(block, normalize: true) : Rate(blocksPerSecond: 0, eventsPerSecond: 0)
    let eventCount = block.events.flatMap { try? metadataByFile[block.metadataFile]?.decodeEvents($0).count } ?? 0
    var pyColumn = "            -"
    var ratioColumn = "         -"
    if let pyRate = py.rates[block.file] {
        let ratio = rate.blocksPerSecond / pyRate.blocksPerSecond
        ratios.append(ratio)
        ourSecondsForPyBlocks += 1 / rate.blocksPerSecond
        pySeconds += 1 / pyRate.blocksPerSecond
        pyColumn = String(format: "%13.1f", pyRate.blocksPerSecond)
        ratioColumn = String(format: "%9.0fx", ratio)
    }
    print(block.file.padding(toLength: 40, withPad: " ", startingAt: 0)
        + String(format: " %4d %5d %13.0f %13.0f %15.0f", block.extrinsics.count, eventCount, rate.blocksPerSecond, rate.eventsPerSecond, withJSON.blocksPerSecond)
        + " " + pyColumn + "  " + ratioColumn)
    totalBlocks += rate.blocksPerSecond
    totalEvents += rate.eventsPerSecond
    totalWeight += 1
}
// Aggregate: decoding every conformance block once, in sequence.
do {
    var runs = 0
    var events = 0
    let start = now()
    var elapsed = 0.0
    repeat {
        for block in blocks {
            if let metadata = metadataByFile[block.metadataFile] { events += (try? decodeBlock(block, metadata, normalize: false)) ?? 0 }
        }
        runs += 1
        elapsed = now() - start
    } while elapsed < options.seconds * 2
    print(String(format: "\nall %d conformance blocks in sequence: %.0f blocks/s, %.0f events/s", blocks.count, Double(runs * blocks.count) / elapsed, Double(events) / elapsed))
}
if !ratios.isEmpty {
    print(String(format: "speed-up over py-scalecodec (blocks/s, V14 blocks): min %.0fx, max %.0fx", ratios.min() ?? 0, ratios.max() ?? 0))
    print(String(format: "aggregate: every V14 block decoded once takes %.3f ms here, %.1f ms in py-scalecodec: %.0fx", ourSecondsForPyBlocks * 1000, pySeconds * 1000, pySeconds / ourSecondsForPyBlocks))
}
if let peak = peakMemoryKiB() { print(String(format: "peak memory (VmHWM): %.1f MiB", Double(peak) / 1024)) }
