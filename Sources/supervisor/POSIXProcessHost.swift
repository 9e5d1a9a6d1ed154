#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The real `ProcessHost`: `posix_spawn` with an explicit argv and environment, default signal
/// dispositions and an empty signal mask in the child, each child in its own process group (so a
/// terminal's Ctrl-C reaches only the supervisor, which then stops workers in order), and one
/// thread per child blocked in `waitpid` for that pid (never `waitpid(-1)`, which would reap
/// children that are not ours, e.g. in a test process).
final class POSIXProcessHost: ProcessHost {
    let exits: AsyncStream<ProcessExit>
    private let continuation: AsyncStream<ProcessExit>.Continuation

    init() {
        (exits, continuation) = AsyncStream.makeStream(of: ProcessExit.self)
    }

    func spawn(_ spec: ProcessSpec) async throws(SpawnError) -> Int32 {
        let pid = try Self.posixSpawn(spec)
        let continuation = self.continuation
        Thread.detachNewThread {
            var status: Int32 = 0
            while true {
                let result = waitpid(pid, &status, 0)
                if result == pid { break }
                if result == -1 && errno == EINTR { continue }
                // ECHILD: somebody else reaped it; report it as gone.
                continuation.yield(ProcessExit(pid: pid, status: .signaled(SIGKILL)))
                return
            }
            continuation.yield(ProcessExit(pid: pid, status: Self.decode(status)))
        }
        return pid
    }

    func signal(_ pid: Int32, _ signal: Int32) async {
        guard pid > 0 else { return }
        _ = kill(pid, signal)
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    private static let addCloseFrom: AddCloseFrom? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
        #else
        return nil
        #endif
    }()

    static func decode(_ status: Int32) -> TerminationStatus {
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros, not imported into Swift.
        let termSignal = status & 0x7f
        if termSignal == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(termSignal)
    }

    private static func posixSpawn(_ spec: ProcessSpec) throws(SpawnError) -> Int32 {
        guard access(spec.executable, X_OK) == 0 else {
            throw .executableMissing(path: spec.executable)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        // Only stdin/stdout/stderr reach the worker; sockets and files of the supervisor do not.
        // (glibc ≥ 2.34 has addclosefrom_np but hides it behind _GNU_SOURCE, so look it up.)
        if let closeFrom = Self.addCloseFrom {
            _ = closeFrom(&fileActions, 3)
        }

        let argv = spec.arguments.map { strdup($0) } + [nil]
        let envp = spec.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, spec.executable, &fileActions, &attributes, argv, envp)
        guard result == 0 else {
            throw .spawnFailed(path: spec.executable, errno: result, reason: String(cString: strerror(result)))
        }
        return pid
    }
}
