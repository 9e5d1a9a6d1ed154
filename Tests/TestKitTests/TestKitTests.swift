import Foundation
import Testing
import TestKit

/// The testing kit's own promises: the manual clock only moves when told, `eventually` reports what it saw,
/// and a child process never outlives the test that started it.
@Suite struct TestKitTests {
    @Test("a sleeper on the manual clock wakes only when time is advanced past its deadline")
    func manualClockWakesOnAdvance() async throws {
        let clock = ManualClock()
        let woke = Task { try await clock.sleep(for: .seconds(10)); return clock.now }
        #expect(await eventually { clock.sleeperCount == 1 })
        clock.advance(by: .seconds(9))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        let at = try await woke.value
        #expect(at.offset == .seconds(10))
        #expect(clock.sleeperCount == 0)
    }

    @Test("eventually is false when the condition never holds, true as soon as it does")
    func eventuallyReportsTheOutcome() async {
        #expect(await eventually(timeout: .milliseconds(100)) { false } == false)
        let start = ContinuousClock.now
        var calls = 0
        #expect(await eventually(timeout: .seconds(5)) { calls += 1; return calls == 3 })
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    @Test("eventuallyValue returns the first value and times out naming what it waited for")
    func eventuallyValueNamesTheWait() async throws {
        var n = 0
        let value = try await eventuallyValue(every: .milliseconds(1), "third poll") { () -> Int? in n += 1; return n >= 3 ? n : nil }
        #expect(value == 3)
        await #expect(throws: TestKitError.self) {
            try await eventuallyValue(timeout: .milliseconds(50), "never") { () -> Int? in nil }
        }
    }

    @Test("a child process is killed and reaped when its handle is released")
    func childProcessIsKilledOnRelease() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var child: ChildProcess? = try ChildProcess("/bin/sleep", ["30"], logPath: dir.file("sleep.log"))
        let pid = try #require(child?.pid)
        #expect(kill(pid, 0) == 0)
        child = nil
        #expect(kill(pid, 0) == -1)
    }

    @Test("a child's exit code and output are reported")
    func childProcessExitCode() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let child = try ChildProcess("/bin/sh", ["-c", "echo hello; exit 7"], logPath: dir.file("sh.log"))
        #expect(await child.wait(timeout: .seconds(10)) == 7)
        #expect(child.output == "hello\n")
    }
}
