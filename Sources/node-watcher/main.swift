// node-watcher: follows one node over WebSocket and reports the blocks it sees.
// Its domain logic lands later; for now it takes part in supervision only:
// READY and heartbeats over the control socket, graceful exit on SIGTERM/SIGINT or the supervisor's
// shutdown command, and exit when the supervisor disappears.
import Shared

let runtime = WorkerRuntime.start(role: .nodeWatcher)
await runtime.run { runtime in
    let reason = await runtime.shutdown.wait()
    runtime.logger.info("stopping", metadata: ["reason": "\(reason)"])
}
