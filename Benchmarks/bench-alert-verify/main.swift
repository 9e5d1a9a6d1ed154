// bench-alert-verify: alert-system verification throughput (parse, BSM digest, 3 public-key recoveries, the
// 3-distinct-keys check), side by side with coincurve 21.0.0 doing the same on the same conformance vectors.
//
//   CHAIN_ALERTER_BENCHMARKS=1 swift build -c release --product bench-alert-verify --scratch-path .build-release
//   .build-release/release/bench-alert-verify [--seconds S] [--python PATH] [--conformance DIR]
import BSVAlert
import Foundation

struct Options {
    var seconds = 2.0
    var python: String?
    var conformance: String?

    init(_ arguments: [String]) {
        var i = 1
        while i < arguments.count {
            let value: String? = i + 1 < arguments.count ? arguments[i + 1] : nil
            switch arguments[i] {
            case "--seconds": seconds = Double(value ?? "") ?? seconds; i += 1
            case "--python": python = value; i += 1
            case "--conformance": conformance = value; i += 1
            default: break
            }
            i += 1
        }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("bench-alert-verify: \(message)\n".utf8))
    exit(1)
}

/// CPU time of this thread: the machine is shared, so wall-clock rates would mostly measure the neighbours.
/// The Python side measures with `time.thread_time()` for the same reason.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let options = Options(CommandLine.arguments)
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let conformance = options.conformance ?? ProcessInfo.processInfo.environment["CHAIN_ALERTER_CONFORMANCE"]
    ?? repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance").path
let vectorsPath = conformance + "/bsv-alert/vectors.json"
guard let vectorsData = FileManager.default.contents(atPath: vectorsPath), let document = AlertJSON.parse([UInt8](vectorsData)),
      case .array(let vectors)? = document["vectors"] else { fail("cannot read \(vectorsPath) (pass --conformance DIR)") }

// The vectors a correct implementation accepts: each is a full verification with 3 signatures.
var alerts: [[UInt8]] = []
for vector in vectors {
    guard vector["expected"]?["outcome"] == .string("accept"), case .string(let hex)? = vector["raw_hex"], let raw = HexEncoding.decode(hex) else { continue }
    alerts.append(raw)
}
guard !alerts.isEmpty else { fail("no accepted vectors in \(vectorsPath)") }
let keys = AlertKeySet.genesis(.local)

for raw in alerts {
    guard let message = try? AlertMessage(raw: raw), AlertVerifier.verify(message, keys: keys).isValid else { fail("a vector that must verify did not") }
}

var verified = 0
let start = now()
var elapsed = 0.0
while elapsed < options.seconds {
    for raw in alerts {
        if let message = try? AlertMessage(raw: raw), AlertVerifier.verify(message, keys: keys).isValid { verified += 1 }
    }
    elapsed = now() - start
}
let swiftRate = Double(verified) / elapsed

func runPython() -> String {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("coincurve_verify.py").path
    let venv = repositoryRoot.appendingPathComponent(".build-pyvenv/bin/python").path
    let python = options.python ?? ProcessInfo.processInfo.environment["CHAIN_ALERTER_PYTHON"]
        ?? (FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/env")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = (python == "/usr/bin/env" ? ["python3"] : []) + [script, vectorsPath, String(options.seconds)]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return "coincurve not run: cannot start \(python): \(error)" }
    let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        return "coincurve unavailable (\(errors.split(separator: "\n").last ?? "exit \(process.terminationStatus)")); install with: python3 -m venv .build-pyvenv && .build-pyvenv/bin/pip install coincurve==21.0.0"
    }
    return output.trimmingCharacters(in: .whitespacesAndNewlines)
}

print(String(format: "swift    BSVAlert + libsecp256k1: %9.0f alerts/s verified (3 signatures each; %d vectors, %.1f s CPU)", swiftRate, alerts.count, elapsed))
print(runPython())
