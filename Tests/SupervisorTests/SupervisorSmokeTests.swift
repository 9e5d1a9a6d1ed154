import Testing
@testable import supervisor
import TestKit

@Suite struct SupervisorSmokeTests {
    @Test func moduleLinks() {
        #expect(Bool(true))
    }
}
