import Foundation
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// Wakes sleeping delivery loops: rung when new alerts are committed, on shutdown, and by the poll.
final class WakeSignal: @unchecked Sendable {
    /// Sleeps for a timeout on the injected clock (a `ManualClock` in tests).
    private let sleep: @Sendable (Duration) async -> Void
    private let lock = NSLock()
    private var generation: UInt64 = 0
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter: UInt64 = 0

    init<C: Clock>(clock: C = ContinuousClock()) where C.Duration == Duration {
        sleep = { try? await clock.sleep(for: $0) }
    }

    /// The current generation; pass it to `wait` to sleep until the next ring.
    var current: UInt64 { lock.lock(); defer { lock.unlock() }; return generation }

    func ring() {
        lock.lock()
        generation &+= 1
        let ws = waiters
        waiters = [:]
        lock.unlock()
        for w in ws.values { w.resume() }
    }

    /// Returns after a ring newer than `seen`, or after `timeout`.
    func wait(after seen: UInt64, timeout: Duration) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if generation != seen { lock.unlock(); c.resume(); return }
            let id = nextWaiter
            nextWaiter &+= 1
            waiters[id] = c
            lock.unlock()
            let sleep = self.sleep
            Task { [weak self] in
                await sleep(timeout)
                self?.timeOut(id)
            }
        }
    }

    private func timeOut(_ id: UInt64) {
        lock.lock()
        let w = waiters.removeValue(forKey: id)
        lock.unlock()
        w?.resume()
    }
}

/// A flag that is set once (shutdown requested).
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    /// Sets it; returns true the first time.
    @discardableResult
    func set() -> Bool { lock.lock(); defer { lock.unlock() }; let was = value; value = true; return !was }
}
