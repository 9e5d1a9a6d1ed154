import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// Runtime metadata by spec version: each version is fetched once (concurrent askers share the fetch)
/// and kept; metadata is never fetched per block.
final class MetadataCache: Sendable {
    private let entries = Mutex<[UInt32: Task<Result<[UInt8], WatcherError>, Never>]>([:])

    var specVersions: [UInt32] { entries.withLock { Array($0.keys).sorted() } }

    func metadata(specVersion: UInt32, fetch: @escaping @Sendable () async throws(WatcherError) -> [UInt8]) async throws(WatcherError) -> [UInt8] {
        let task = entries.withLock { entries in
            if let task = entries[specVersion] { return task }
            let task = Task { () -> Result<[UInt8], WatcherError> in
                do throws(WatcherError) { return .success(try await fetch()) } catch { return .failure(error) }
            }
            entries[specVersion] = task
            return task
        }
        switch await task.value {
        case .success(let bytes): return bytes
        case .failure(let error):
            // Forget failures so the next asker tries again.
            entries.withLock { _ = $0.removeValue(forKey: specVersion) }
            throw error
        }
    }
}

/// A counting semaphore for bounded concurrency.
actor Slots {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            free += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// Converts the node's JSON header (`parentHash`, `number`, roots, `digest.logs`) to its SCALE bytes.
