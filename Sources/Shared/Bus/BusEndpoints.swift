import Glibc

/// Where each socket lives, so the supervisor and every worker derive the same ipc:// paths from
/// the state directory instead of spelling them out in several places.
public enum BusEndpoints {
    /// The kernel limits a Unix socket path to 107 bytes (108 with the terminating NUL).
    public static let maxIPCPathLength = 107

    /// The supervisor's control ROUTER.
    public static func control(stateDirectory: String) -> String { ipc(stateDirectory, "control.sock") }
    /// fork-worker's PULL for `BlockSeen` and `NodeStatus` from every watcher.
    public static func blocksSeen(stateDirectory: String) -> String { ipc(stateDirectory, "blocks-seen.sock") }
    /// A node-watcher's ROUTER answering `FetchRequest`s; one per watcher instance.
    public static func fetch(stateDirectory: String, worker: String) -> String { ipc(stateDirectory, "fetch-\(worker).sock") }
    /// alert-worker's PULL for `CanonicalBlock` and `ForkEvent`.
    public static func canonical(stateDirectory: String) -> String { ipc(stateDirectory, "canonical.sock") }
    /// notifier's PULL for `AlertDoorbell`.
    public static func doorbell(stateDirectory: String) -> String { ipc(stateDirectory, "doorbell.sock") }
    /// supervisor's PULL for `NodeStatus` from the watchers.
    public static func nodeStatus(stateDirectory: String) -> String { ipc(stateDirectory, "node-status.sock") }

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
