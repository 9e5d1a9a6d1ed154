import Foundation

/// Polls `condition` every `interval` until it holds or `timeout` passes; returns whether it held.
/// The one polling helper of the test suites: a test asserts on the result (`#expect(await eventually …)`).
@discardableResult
public func eventually(timeout: Duration = .seconds(5), every interval: Duration = .milliseconds(50),
                       _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try condition()
}

/// Polls an async `probe` until it returns a value or `timeout` passes; throws `TestKitError.timedOut` naming
/// `what`. An error the probe throws ends the wait at once.
public func eventuallyValue<T>(timeout: Duration = .seconds(5), every interval: Duration = .milliseconds(50), _ what: String = "condition",
                               _ probe: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try await probe() { return value }
        try await Task.sleep(for: interval)
    }
    if let value = try await probe() { return value }
    throw TestKitError.timedOut("\(what) did not happen within \(timeout)")
}

/// Failures of the testing kit itself, with a message that says what did not happen.
public enum TestKitError: Error, CustomStringConvertible {
    case timedOut(String)
    case spawn(executable: String, errno: Int32)
    case setup(String)

    public var description: String {
        switch self {
        case .timedOut(let what): return what
        case .spawn(let executable, let errno): return "could not start \(executable): \(String(cString: strerror(errno)))"
        case .setup(let what): return what
        }
    }
}
