// fork-worker: keeps the fork tree and decides which blocks are canonical.
import Shared

let runtime = WorkerRuntime.start(role: .forkWorker)
await runtime.run { runtime in
    let reason = await runtime.shutdown.wait()
    runtime.logger.info("stopping", metadata: ["reason": "\(reason)"])
}
