// fork-worker: keeps the fork tree and decides which blocks are canonical.
// Its domain logic lands later; for now it takes part in supervision only:
// READY and heartbeats over the control socket, graceful exit on SIGTERM/SIGINT or the supervisor's
// shutdown command, and exit when the supervisor disappears.
import Shared

let runtime = WorkerRuntime.start(role: .forkWorker)
await runtime.run { runtime in
    let reason = await runtime.shutdown.wait()
    runtime.logger.info("stopping", metadata: ["reason": "\(reason)"])
}
