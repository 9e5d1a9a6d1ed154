import Testing
@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

@Suite struct SupervisorSmokeTests {
    @Test func moduleLinks() {
        #expect(Bool(true))
    }
}
