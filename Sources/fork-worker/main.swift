// fork-worker: keeps the fork tree, decides which blocks are on the best fork, fills gaps through the
// watchers and sends best-fork blocks to the alert-worker in chain order, each once (docs/DESIGN.md,
// "Fork worker and exactly-once"). Wiring only: WorkerRuntime around ForkWorkerProcess.
// Exit 0 on shutdown, 78 on bad configuration.
import Foundation
import ForkChoice
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

let runtime = WorkerRuntime.start(role: .forkWorker)
await runtime.run { runtime in
    let code = await ForkWorkerProcess.run(arguments: Array(CommandLine.arguments.dropFirst()),
                                           environment: ProcessInfo.processInfo.environment,
                                           name: runtime.configuration.name,
                                           shutdown: runtime.shutdown, logger: runtime.logger,
                                           commands: runtime.workerCommands)
    if code != 0 { exit(code) }
}
