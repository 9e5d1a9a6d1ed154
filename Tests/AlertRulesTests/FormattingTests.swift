import Testing
@testable import alert_worker

@Suite struct FormattingTests {
    @Test func rustFloat() {
        #expect(AlertText.rustFloat(2_000_000) == "2000000")
        #expect(AlertText.rustFloat(8.75) == "8.75")
        #expect(AlertText.rustFloat(10) == "10")
    }
}
