import Foundation
import Synchronization

/// A child process started with posix_spawn for a test: stdout and stderr to files, default signal dispositions
/// and an empty signal mask (so SIGTERM works whatever the test runner ignores), reaped with waitpid. It is
/// SIGKILLed when it is released or when the test process exits, so no test leaves a process behind.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let stdoutPath: String
    public let stderrPath: String
    private let status = Mutex<Int32?>(nil)

    /// Starts `executable`. `environment` nil inherits the test's environment; otherwise the inherited
    /// environment, less every `CHAIN_ALERTER_*` variable unless `inheritChainAlerterVariables`, merged with it.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                inheritChainAlerterVariables: Bool = true, stdoutPath: String, stderrPath: String) throws {
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var merged = ProcessInfo.processInfo.environment
        if let environment {
            if !inheritChainAlerterVariables {
                for key in merged.keys where key.hasPrefix("CHAIN_ALERTER_") { merged[key] = nil }
            }
            merged.merge(environment) { $1 }
        }
        let env = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var p: pid_t = 0
        let rc = posix_spawnp(&p, executable, &actions, &attr, argv, env)
        guard rc == 0 else { throw TestKitError.spawn(executable: executable, errno: rc) }
        pid = p
        LiveChildren.shared.add(p)
    }

    /// Both streams into one log file.
    public convenience init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                            inheritChainAlerterVariables: Bool = true, logPath: String) throws {
        try self.init(executable, arguments, environment: environment, inheritChainAlerterVariables: inheritChainAlerterVariables,
                      stdoutPath: logPath, stderrPath: logPath)
    }

    deinit { killAndReap() }

    public var logPath: String { stdoutPath }
    public var hasExited: Bool { status.withLock { $0 != nil } }

    public func signal(_ s: Int32) { if !hasExited { kill(pid, s) } }

    /// Waits up to `timeout` for the exit; returns the exit code (128+signal when killed) or nil.
    public func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let code = reap(options: WNOHANG) { return code }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGKILL and reap (cleanup; never leaves a process behind).
    public func killAndReap() {
        guard !hasExited else { return }
        kill(pid, SIGKILL)
        _ = reap(options: 0)
    }

    private func reap(options: Int32) -> Int32? {
        status.withLock { status -> Int32? in
            if let status { return status }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, options) == pid else { return nil }
            let code = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            status = code
            LiveChildren.shared.remove(pid)
            return code
        }
    }

    /// stdout followed by stderr (one file when they share it).
    public var output: String {
        let out = String(decoding: FileManager.default.contents(atPath: stdoutPath) ?? Data(), as: UTF8.self)
        if stderrPath == stdoutPath { return out }
        return out + String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self)
    }
}

/// Children still running; an atexit handler kills them when the test process ends early.
private final class LiveChildren: Sendable {
    static let shared = LiveChildren()
    private let pids = Mutex<Set<pid_t>>([])

    private init() {
        atexit {
            for pid in LiveChildren.shared.pids.withLock({ $0 }) { kill(pid, SIGKILL) }
        }
    }

    func add(_ pid: pid_t) { _ = pids.withLock { $0.insert(pid) } }
    func remove(_ pid: pid_t) { _ = pids.withLock { $0.remove(pid) } }
}

/// Where the package's executables were built: the directory of the test binary (or a parent of it).
public enum BuildProducts {
    public static var directory: String {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = (testBinary as NSString).deletingLastPathComponent
        while !FileManager.default.isExecutableFile(atPath: directory + "/supervisor") && directory != "/" {
            directory = (directory as NSString).deletingLastPathComponent
        }
        if directory == "/" { return FileManager.default.currentDirectoryPath + "/.build/debug" }
        return directory
    }

    /// The path of one built executable (`supervisor`, `devnode`, a worker).
    public static func executable(_ name: String) -> String { directory + "/" + name }

    /// The `supervisor` executable.
    public static var supervisor: String { executable("supervisor") }

    /// The package root (the folder with Package.swift), found from this file's location.
    public static let packageRoot: String = {
        // Sources/Shared/TestKit/ChildProcess.swift → four levels up.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0 ..< 4 { url.deleteLastPathComponent() }
        return url.path
    }()
}
