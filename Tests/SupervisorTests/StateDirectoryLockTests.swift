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

@Suite(.timeLimit(.minutes(1)))
struct StateDirectoryLockTests {
    @Test func secondLockOnTheSameDirectoryFailsUntilTheFirstIsReleased() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var first: StateDirectoryLock? = try StateDirectoryLock(stateDirectory: scratch.path)
        #expect(throws: StateDirectoryLockError.alreadyRunning(path: scratch.path + "/supervisor.lock")) {
            _ = try StateDirectoryLock(stateDirectory: scratch.path)
        }
        withExtendedLifetime(first) {}
        first = nil
        _ = try StateDirectoryLock(stateDirectory: scratch.path)
    }

    @Test func unwritableDirectoryIsAnActionableError() {
        #expect(throws: StateDirectoryLockError.self) {
            _ = try StateDirectoryLock(stateDirectory: "/nonexistent/state")
        }
    }
}
