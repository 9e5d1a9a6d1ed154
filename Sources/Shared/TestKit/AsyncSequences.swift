import Logging

/// A logger that prints nothing, for code under test that requires one.
public let testLogger: Logger = {
    var logger = Logger(label: "bus-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    logger.logLevel = .critical
    return logger
}()

/// The first element of `sequence`, or nil after `timeout`.
public func firstElement<S: AsyncSequence & Sendable>(of sequence: S, timeout: Duration = .seconds(5)) async -> S.Element?
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
public func collect<S: AsyncSequence & Sendable>(_ count: Int, from sequence: S, timeout: Duration = .seconds(5)) async -> [S.Element]
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

