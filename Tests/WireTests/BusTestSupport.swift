import Foundation
import Logging
import Metrics
import MetricsTestKit
@testable import Wire
@testable import SubstratePrimitives
import TestKit

extension TestMetrics {
    func malformed(_ socket: String, _ reason: MalformedFrameReason) -> Int64 {
        counterTotal(label: BusMetrics.malformedFramesLabel, dimensions: [("socket", socket), ("reason", reason.rawValue)])
    }
}
