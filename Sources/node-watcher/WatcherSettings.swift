import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// Everything a node-watcher needs to know, resolved from options and environment.
struct WatcherSettings: Sendable {
    /// ws:// or wss:// URL of the node.
    var nodeURL: String
    /// ZeroMQ routing id on the fetch DEALER and the envelope sender (e.g. `node-watcher-0`).
    var workerName: String
    /// Where `blocks.sock` and `fetch.sock` live.
    var stateDirectory: String
    var limits = ConnectionLimits()
    /// Fetch requests served at once; the rest wait in the DEALER's inbox.
    var fetchConcurrency = 64
    var backoffInitial: Duration = .milliseconds(10)
    var backoffMaximum: Duration = .seconds(10)
    var statusInterval: Duration = .seconds(1)
    /// Most headers fetched to fill a gap after a reconnect (the fork-worker fills larger gaps with `ancestors`).
    var maxGapFill = 4096
    /// Most headers one `ancestors` request returns.
    var maxAncestors: UInt32 = 1024
    /// PEM trust roots for wss:// (self-signed nodes); nil = the system store.
    var trustRootsFile: String?

    var blocksEndpoint: String { BusEndpoints.blocks(stateDirectory: stateDirectory) }
    var fetchEndpoint: String { BusEndpoints.fetch(stateDirectory: stateDirectory) }
}

/// Follows one node: subscribes to new, all and finalized heads and to the runtime version; pushes a
/// `BlockSeen` for every header and a `NodeStatus` every second; answers the fork-worker's
/// `FetchRequest`s; reconnects with backoff and fills the gap it missed while away.
