import Testing
@testable import supervisor

@Suite struct SupervisorSmokeTests {
    @Test func moduleLinks() {
        #expect(Bool(true))
    }
}
