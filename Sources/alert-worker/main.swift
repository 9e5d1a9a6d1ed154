// alert-worker: checks each best-fork block exactly once, in chain order (BlockIntake), runs the alert
// rules on it and commits its alerts with the "checked up to" cursor in one transaction; reports the
// cursor to the fork-worker and rings the notifier's doorbell. Wiring only: WorkerRuntime around
// AlertWorkerProcess (in AlertRules). Exit 0 on shutdown, 78 on bad configuration, 1 when the store fails.
import Foundation
import AlertRules
import Store
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

let runtime = WorkerRuntime.start(role: .alertWorker)
await runtime.run { runtime in
    let code = await AlertWorkerProcess.run(arguments: Array(CommandLine.arguments.dropFirst()),
                                            environment: ProcessInfo.processInfo.environment,
                                            name: runtime.configuration.name,
                                            shutdown: runtime.shutdown, logger: runtime.logger,
                                            commands: runtime.workerCommands)
    if code != 0 { exit(code) }
}
