import Glibc

/// The one list of the bus's ipc:// endpoints: every process derives the same paths from the state directory
/// through these, so a socket file's name is spelled here and nowhere else.
public enum BusEndpoints {
    /// The kernel limits a Unix socket path to 107 bytes (108 with the terminating NUL).
    public static let maxIPCPathLength = 107

    /// The socket files, for checks and for operators reading the state directory.
    public enum File: String, CaseIterable, Sendable {
        /// The supervisor's control ROUTER (workers' DEALERs and `ctl` connect).
        case control = "control.sock"
        /// fork-worker's PULL for `BlockSeen`, `NodeStatus` and `ChainIdentity` from every watcher, and the
        /// alert-worker's cursor.
        case blocks = "blocks.sock"
        /// fork-worker's ROUTER for fetches: watchers connect their DEALERs and answer `FetchRequest`s.
        case fetch = "fetch.sock"
        /// alert-worker's PULL for `CanonicalBlock`, `ForkEvent` and `NodeVerdict`.
        case alertWorker = "alert-worker.sock"
        /// notifier's PULL for the alert-worker's `AlertDoorbell`.
        case notifier = "notifier.sock"
    }

    /// `ipc://<state-dir>/<file>`, with trailing slashes of the directory dropped.
    public static func endpoint(_ file: File, stateDirectory: String) -> String { ipc(stateDirectory, file.rawValue) }

    public static func control(stateDirectory: String) -> String { endpoint(.control, stateDirectory: stateDirectory) }
    public static func blocks(stateDirectory: String) -> String { endpoint(.blocks, stateDirectory: stateDirectory) }
    public static func fetch(stateDirectory: String) -> String { endpoint(.fetch, stateDirectory: stateDirectory) }
    public static func alertWorker(stateDirectory: String) -> String { endpoint(.alertWorker, stateDirectory: stateDirectory) }
    public static func notifier(stateDirectory: String) -> String { endpoint(.notifier, stateDirectory: stateDirectory) }

    /// The longest socket path in `stateDirectory`, for the configuration check (ipc paths must fit the kernel limit).
    public static func longestPathLength(stateDirectory: String) -> Int {
        File.allCases.map { ipc(stateDirectory, $0.rawValue).utf8.count - "ipc://".utf8.count }.max() ?? 0
    }

    /// Checks that an ipc:// endpoint fits the kernel's path limit, so the failure names the fix.
    public static func validate(_ endpoint: String) throws(BusError) {
        try BusError.validate(endpoint: endpoint)
        if endpoint.hasPrefix("ipc://"), endpoint.utf8.count - "ipc://".utf8.count > maxIPCPathLength {
            throw .zmq(operation: "bind/connect", endpoint: endpoint, errno: ENAMETOOLONG)
        }
    }

    private static func ipc(_ directory: String, _ file: String) -> String {
        var directory = directory
        while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
        return "ipc://\(directory)/\(file)"
    }
}
