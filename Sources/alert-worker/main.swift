// alert-worker: decodes canonical blocks, runs the alert rules and commits alert rows.
// Its domain logic lands later; for now it takes part in supervision only:
// READY and heartbeats over the control socket, graceful exit on SIGTERM/SIGINT or the supervisor's
// shutdown command, and exit when the supervisor disappears.
import Shared

let runtime = WorkerRuntime.start(role: .alertWorker)
await runtime.run { runtime in
    let reason = await runtime.shutdown.wait()
    runtime.logger.info("stopping", metadata: ["reason": "\(reason)"])
}
