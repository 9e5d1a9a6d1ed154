import ForkChoice
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// Why the fork-worker asked a watcher for something.
enum FetchPurpose: Sendable, Equatable {
    case ancestors(start: BlockHash)
    case canonical(BlockLink)
    /// The new primary's best block after a fail-over.
    case primaryBest
    /// Data of a block to be emitted; never given up on.
    case blockPart(BlockHash)
}

/// Pipelined requests to the watchers: bounded concurrency, a deadline per request, and a retry on the
/// next watcher after a failure, a "not found" or a timeout. Pure: time and targets come in as values.
struct FetchClient: Sendable {
    /// One request and how it has fared so far.
    struct Request: Sendable {
        var id: UInt64
        var purpose: FetchPurpose
        var kind: FetchKind
        var hash: BlockHash
        var count: UInt32
        var height: UInt64?
        var attempts = 0
        var deadline: Int64 = 0
        var notBefore: Int64 = 0
    }

    var maxInFlight = 64
    var timeoutMilliseconds: Int64 = 5000
    /// Attempts (over all watchers) before a non-emission request is given up.
    var maxAttempts = 4
    private(set) var inFlight: [UInt64: Request] = [:]
    private var queued: [Request] = []
    private var nextID: UInt64 = 1

    var isIdle: Bool { inFlight.isEmpty && queued.isEmpty }
    var backlog: Int { inFlight.count + queued.count }

    mutating func enqueue(_ purpose: FetchPurpose, kind: FetchKind, hash: BlockHash, count: UInt32 = 1, height: UInt64? = nil) {
        queued.append(Request(id: 0, purpose: purpose, kind: kind, hash: hash, count: count, height: height))
    }

    /// Starts as many queued requests as there are free slots. `targets`: watcher routing ids, primary first.
    mutating func dispatch(now: Int64, targets: [[UInt8]]) -> [(routingID: [UInt8], request: FetchRequest)] {
        guard !targets.isEmpty else { return [] }
        var out: [(routingID: [UInt8], request: FetchRequest)] = []
        var waiting: [Request] = []
        var index = 0
        while index < queued.count {
            var request = queued[index]
            index += 1
            if inFlight.count >= maxInFlight || request.notBefore > now { waiting.append(request); continue }
            request.id = nextID
            nextID += 1
            request.deadline = now + timeoutMilliseconds
            let target = targets[request.attempts % targets.count]
            request.attempts += 1
            inFlight[request.id] = request
            out.append((target, FetchRequest(requestID: request.id, kind: request.kind, blockHash: request.hash.bytes,
                                             count: request.count, height: request.height)))
        }
        queued = waiting
        return out
    }

    /// Matches an answer to its request. A failed or empty answer is retried (or given up: `.failed`).
    mutating func answer(_ data: BlockData, now: Int64) -> (Request, BlockData.Outcome)? {
        guard let request = inFlight.removeValue(forKey: data.requestID) else { return nil }
        switch data.outcome {
        case .found(let blocks) where !blocks.isEmpty:
            return (request, data.outcome)
        default:
            return retry(request, now: now).map { ($0, data.outcome) }
        }
    }

    /// Requests past their deadline: retried, or returned as given up.
    mutating func expire(now: Int64) -> [Request] {
        let late = inFlight.values.filter { $0.deadline <= now }
        var givenUp: [Request] = []
        for request in late {
            inFlight.removeValue(forKey: request.id)
            if let failed = retry(request, now: now) { givenUp.append(failed) }
        }
        return givenUp
    }

    /// Requeues; returns the request when it is given up instead.
    private mutating func retry(_ request: Request, now: Int64) -> Request? {
        if case .blockPart = request.purpose {
            var again = request
            // Back off a little once every watcher has been tried.
            again.notBefore = now + min(2000, Int64(request.attempts / 4) * 250)
            // At the front: a later block cannot be sent before this one anyway.
            queued.insert(again, at: 0)
            return nil
        }
        if request.attempts >= maxAttempts { return request }
        queued.insert(request, at: 0)
        return nil
    }
}
