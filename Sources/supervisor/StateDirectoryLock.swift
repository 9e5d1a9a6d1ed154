#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the state directory cannot be used by this supervisor.
enum StateDirectoryLockError: Error, Equatable, CustomStringConvertible {
    case alreadyRunning(path: String)
    case cannotOpen(path: String, errno: Int32)

    var description: String {
        switch self {
        case .alreadyRunning(let path):
            return "another supervisor is already running with this state directory (\(path) is locked); stop it first, or pass a different --state-dir"
        case .cannotOpen(let path, let errno):
            return "cannot open the lock file \(path): \(String(cString: strerror(errno))); check that the state directory is writable"
        }
    }
}

/// An exclusive `flock` on `<state-dir>/supervisor.lock`, held for the supervisor's lifetime, so
/// that a second supervisor cannot take over the control socket of a running one. The kernel
/// releases it when the process dies, so a crash never leaves a stale lock. Workers never inherit
/// it (close-on-exec, and the spawn closes every descriptor above 2).
final class StateDirectoryLock {
    let path: String
    private let descriptor: Int32

    init(stateDirectory: String) throws(StateDirectoryLockError) {
        path = stateDirectory + "/supervisor.lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw .alreadyRunning(path: path)
        }
    }

    deinit {
        close(descriptor)
    }
}
