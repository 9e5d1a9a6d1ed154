import NIOConcurrencyHelpers

/// Runs `body` for at most `seconds`; then cancels it and throws `P2PStreamError.timedOut(what)` without
/// waiting for it to finish (a wait on an EventLoopFuture does not end on cancellation, so a task group would hang).
public func withP2PDeadline<T: Sendable>(seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let pending = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
    let take: @Sendable () -> CheckedContinuation<T, any Error>? = {
        pending.withLockedValue { value in
            defer { value = nil }
            return value
        }
    }
    return try await withCheckedThrowingContinuation { continuation in
        pending.withLockedValue { $0 = continuation }
        let work = Task {
            do {
                let value = try await body()
                take()?.resume(returning: value)
            } catch {
                take()?.resume(throwing: error)
            }
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            if let waiting = take() {
                work.cancel()
                waiting.resume(throwing: P2PStreamError.timedOut(what))
            }
        }
    }
}
