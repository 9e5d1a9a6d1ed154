import Foundation
import Logging
import Metrics
import MetricsTestKit
@testable import Shared

/// A fresh short temp directory: ipc paths must stay under ~100 bytes.
func makeSocketDirectory() -> String {
    var template = Array("/tmp/cab-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { buffer -> String in
        guard let result = mkdtemp(buffer.baseAddress!) else { return "/tmp" }
        return String(cString: result)
    }
    return path
}

func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

let testLogger: Logger = {
    var logger = Logger(label: "bus-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    logger.logLevel = .critical
    return logger
}()

/// The first element of `sequence`, or nil after `timeout`.
func firstElement<S: AsyncSequence & Sendable>(of sequence: S, timeout: Duration = .seconds(5)) async -> S.Element?
    where S.Element: Sendable {
    await withTaskGroup(of: S.Element?.self) { group in
        group.addTask {
            var iterator = sequence.makeAsyncIterator()
            return try? await iterator.next()
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// Collects `count` elements (or fewer, after `timeout`).
func collect<S: AsyncSequence & Sendable>(_ count: Int, from sequence: S, timeout: Duration = .seconds(5)) async -> [S.Element]
    where S.Element: Sendable {
    await withTaskGroup(of: [S.Element]?.self) { group in
        group.addTask {
            var result: [S.Element] = []
            var iterator = sequence.makeAsyncIterator()
            while result.count < count, let next = try? await iterator.next() { result.append(next) }
            return result
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        var collected: [S.Element] = []
        if let first = await group.next(), let values = first { collected = values }
        group.cancelAll()
        return collected
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

extension TestMetrics {
    func malformed(_ socket: String, _ reason: MalformedFrameReason) -> Int64 {
        counterTotal(label: BusMetrics.malformedFramesLabel, dimensions: [("socket", socket), ("reason", reason.rawValue)])
    }
}
