import Testing
@testable import notifier
@Test func placeholder() {}
