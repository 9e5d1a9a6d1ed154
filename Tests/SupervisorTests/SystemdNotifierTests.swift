import Foundation
import Testing
@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

/// A bound unix datagram socket standing in for systemd's notification socket.
final class NotifySocket {
    let descriptor: Int32
    /// The address as NOTIFY_SOCKET spells it (a path, or `@name` for an abstract socket).
    let address: String

    init(abstract: Bool) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        let name = "chain-alerter-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        address = abstract ? "@" + name : NSTemporaryDirectory() + name + ".sock"
        var bytes = Array(address.utf8)
        if abstract { bytes[0] = 0 }
        var sockaddr = sockaddr_un()
        sockaddr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &sockaddr.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1))
        let result = withUnsafePointer(to: &sockaddr) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard result == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EINVAL) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram, or nil after 2 s.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Everything already queued, without waiting.
    func drain() -> [String] {
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count < 0 { return messages }
            messages.append(String(decoding: buffer[..<count], as: UTF8.self))
        }
    }

    deinit {
        close(descriptor)
        if !address.hasPrefix("@") { unlink(address) }
    }
}

/// Reads a `NotifySocket` every 10 ms on its own task, as systemd would, and keeps what arrived.
final class NotifyCollector: @unchecked Sendable {
    let socket: NotifySocket
    private let lock = NSLock()
    private var messages: [String] = []
    private var task: Task<Void, Never>?

    init(_ socket: NotifySocket) {
        self.socket = socket
        task = Task.detached { [self] in
            while !Task.isCancelled {
                let arrived = self.socket.drain()
                self.lock.withLock { self.messages += arrived }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// Everything that arrived since the last call.
    func drain() -> [String] {
        let arrived = socket.drain()
        return lock.withLock {
            let all = messages + arrived
            messages = []
            return all
        }
    }

    func stop() { task?.cancel() }
}

@Suite(.timeLimit(.minutes(1))) struct SystemdNotifierTests {
    @Test(arguments: [false, true])
    func sendsDatagramsToPathAndAbstractSockets(abstract: Bool) throws {
        let socket = try NotifySocket(abstract: abstract)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
        try notifier.notify("READY=1")
        #expect(socket.receive() == "READY=1")
        try notifier.notify("STATUS=5/5 workers running")
        #expect(socket.receive() == "STATUS=5/5 workers running")
    }

    @Test func aReaderThatDoesNotReadNeverBlocksTheSupervisor() throws {
        // The datagram queue holds net.unix.max_dgram_qlen (often 10) messages; then a blocking send would hang.
        let socket = try NotifySocket(abstract: false)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
        var failures = 0
        for _ in 0 ..< 2000 {
            do { try notifier.notify("WATCHDOG=1") } catch { failures += 1 }
        }
        #expect(failures > 0, "the queue never filled; the test proves nothing")
        let start = ContinuousClock.now
        #expect(throws: SystemdNotifyError.self) { try notifier.notify("STOPPING=1") }
        #expect(ContinuousClock.now - start < .seconds(5), "a state change retries for about 1 s, then gives up")
        let drained = socket.drain()
        #expect(!drained.isEmpty && drained.allSatisfy { $0 == "WATCHDOG=1" })
        try notifier.notify("STOPPING=1")
        #expect(socket.drain() == ["STOPPING=1"])
    }

    @Test func withoutNotifySocketEverythingIsANoOp() throws {
        let notifier = SystemdNotifier(environment: [:])
        #expect(notifier.socketPath == nil)
        #expect(notifier.watchdogInterval == nil)
        try notifier.notify("READY=1")
    }

    @Test func missingSocketIsAnActionableError() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/notify.sock"])
        #expect(throws: SystemdNotifyError.self) { try notifier.notify("READY=1") }
        let relative = SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative.sock"])
        #expect(throws: SystemdNotifyError.badSocketAddress("relative.sock")) { try relative.notify("READY=1") }
    }

    @Test func watchdogIntervalIsHalfOfWatchdogUSecAndOnlyForOurPID() {
        let environment = ["NOTIFY_SOCKET": "/run/notify", "WATCHDOG_USEC": "30000000"]
        #expect(SystemdNotifier(environment: environment, pid: 42).watchdogInterval == .seconds(15))
        var otherPID = environment
        otherPID["WATCHDOG_PID"] = "7"
        #expect(SystemdNotifier(environment: otherPID, pid: 42).watchdogInterval == nil)
        otherPID["WATCHDOG_PID"] = "42"
        #expect(SystemdNotifier(environment: otherPID, pid: 42).watchdogInterval == .seconds(15))
    }

    @Test func watchdogScheduleWithManualClock() {
        let clock = ManualClock()
        var schedule = WatchdogSchedule<ManualClock.Instant>(interval: .seconds(15))
        var pings: [Bool] = []
        pings.append(schedule.pingIfDue(at: clock.now))
        clock.advance(by: .seconds(14))
        pings.append(schedule.pingIfDue(at: clock.now))
        clock.advance(by: .seconds(1))
        pings.append(schedule.pingIfDue(at: clock.now))
        pings.append(schedule.pingIfDue(at: clock.now))
        #expect(pings == [true, false, true, false])
    }

    @Test func lifecycleEventsBecomeSdNotifyMessages() throws {
        let socket = try NotifySocket(abstract: false)
        let lifecycle = SystemdLifecycle(
            notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "60000000"]),
            report: { _ in }
        )
        lifecycle.handle(.status("2/5 workers running\nsecond line"))
        lifecycle.handle(.status("5/5 workers running"))
        lifecycle.handle(.ready)
        lifecycle.handle(.alive)
        lifecycle.handle(.alive)  // within the 30 s interval: no second ping
        lifecycle.handle(.stopping)
        #expect(socket.drain() == [
            "STATUS=2/5 workers running second line",
            "STATUS=5/5 workers running",
            "READY=1\nSTATUS=5/5 workers running",
            "WATCHDOG=1",
            "STOPPING=1",
        ])
    }
}
