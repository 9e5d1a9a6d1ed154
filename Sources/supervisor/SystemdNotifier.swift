#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Why a notification could not be sent to the service manager.
enum SystemdNotifyError: Error, Equatable, CustomStringConvertible {
    case badSocketAddress(String)
    case socketFailed(errno: Int32)
    case sendFailed(path: String, errno: Int32)

    var description: String {
        switch self {
        case .badSocketAddress(let path):
            return "NOTIFY_SOCKET=\(path) is not a usable unix socket address (absolute path or @abstract, at most 107 bytes)"
        case .socketFailed(let errno):
            return "cannot create a unix datagram socket for sd_notify: \(String(cString: strerror(errno)))"
        case .sendFailed(let path, let errno):
            return "cannot send to NOTIFY_SOCKET=\(path): \(String(cString: strerror(errno))); is the unit Type=notify with NotifyAccess=main?"
        }
    }
}

/// sd_notify without libsystemd: one datagram per message to `$NOTIFY_SOCKET` (a path, or an
/// abstract socket written with a leading `@`). Without `NOTIFY_SOCKET` every call is a no-op.
struct SystemdNotifier: Sendable {
    /// `$NOTIFY_SOCKET`, nil when not run by systemd.
    let socketPath: String?
    /// Half of `$WATCHDOG_USEC` when the watchdog is on and meant for this process.
    let watchdogInterval: Duration?

    init(environment: [String: String], pid: Int32 = getpid()) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        var interval: Duration?
        if path != nil, let usec = environment["WATCHDOG_USEC"].flatMap({ UInt64($0) }), usec > 0 {
            let forUs = environment["WATCHDOG_PID"].flatMap { Int32($0) }.map { $0 == pid } ?? true
            if forUs { interval = .microseconds(usec / 2) }
        }
        watchdogInterval = interval
    }

    /// Sends `message` (e.g. `READY=1`, `STATUS=…`, newline-separated assignments).
    func notify(_ message: String) throws(SystemdNotifyError) {
        guard let socketPath else { return }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        let abstract = pathBytes.first == UInt8(ascii: "@")
        if abstract { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard abstract || pathBytes.first == UInt8(ascii: "/"), pathBytes.count < capacity else {
            throw .badSocketAddress(socketPath)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + pathBytes.count + (abstract ? 0 : 1))

        #if canImport(Glibc)
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let descriptor = socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard descriptor >= 0 else { throw .socketFailed(errno: errno) }
        defer { close(descriptor) }
        let bytes = Array(message.utf8)
        // Never block the supervisor on a reader that does not read (the datagram queue holds only
        // net.unix.max_dgram_qlen messages). A state change gets up to 1 s of retries; a WATCHDOG=1 that
        // does not fit is dropped, the next one follows anyway.
        let attempts = message == "WATCHDOG=1" ? 1 : 100
        var sent = -1
        var failure: Int32 = 0
        for attempt in 0 ..< attempts {
            sent = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    bytes.withUnsafeBytes { buffer in
                        sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT), socketAddress, length)
                    }
                }
            }
            failure = errno
            guard sent < 0, failure == EAGAIN || failure == EWOULDBLOCK || failure == EINTR, attempt + 1 < attempts else { break }
            usleep(10_000)
        }
        guard sent >= 0 else { throw .sendFailed(path: socketPath, errno: failure) }
    }
}

/// When the next `WATCHDOG=1` is due: a pure schedule over the clock's instants.
struct WatchdogSchedule<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    let interval: Duration
    private(set) var lastPing: Instant?

    init(interval: Duration) {
        self.interval = interval
    }

    /// True (and remembers the ping) when a ping is due at `now`.
    mutating func pingIfDue(at now: Instant) -> Bool {
        if let lastPing, lastPing.duration(to: now) < interval { return false }
        lastPing = now
        return true
    }
}

/// Turns the supervisor's `LifecycleEvent`s into sd_notify messages. Errors are logged once and
/// otherwise ignored: a broken notify socket must not take the alerting down.
final class SystemdLifecycle: Sendable {
    private let notifier: SystemdNotifier
    private let clock = ContinuousClock()
    private let state: Mutex<(watchdog: WatchdogSchedule<ContinuousClock.Instant>?, lastStatus: String, reportedError: Bool)>
    private let report: @Sendable (String) -> Void

    init(notifier: SystemdNotifier, report: @escaping @Sendable (String) -> Void) {
        self.notifier = notifier
        self.report = report
        state = Mutex((notifier.watchdogInterval.map { WatchdogSchedule(interval: $0) }, "", false))
    }

    func handle(_ event: LifecycleEvent) {
        guard notifier.socketPath != nil else { return }
        let message: String?
        switch event {
        case .ready:
            let status = state.withLock { $0.lastStatus }
            message = "READY=1" + (status.isEmpty ? "" : "\nSTATUS=\(status)")
        case .status(let line):
            let oneLine = line.split(whereSeparator: \.isNewline).joined(separator: " ")
            state.withLock { $0.lastStatus = oneLine }
            message = "STATUS=\(oneLine)"
        case .alive:
            let now = clock.now
            let due = state.withLock { state -> Bool in
                guard var schedule = state.watchdog else { return false }
                let due = schedule.pingIfDue(at: now)
                state.watchdog = schedule
                return due
            }
            message = due ? "WATCHDOG=1" : nil
        case .stopping:
            message = "STOPPING=1"
        }
        guard let message else { return }
        do {
            try notifier.notify(message)
        } catch {
            let first = state.withLock { state -> Bool in
                defer { state.reportedError = true }
                return !state.reportedError
            }
            if first { report("\(error)") }
        }
    }
}
