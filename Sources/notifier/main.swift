// notifier: delivers committed alerts to Slack, webhooks and the terminal, exactly once per sink.
// Wiring only: WorkerRuntime (READY, heartbeats, SIGTERM, supervisor death) around NotifierProcess
// (options → configuration → token → store → Notifier). Exit 0 on shutdown or --alert-limit, 78 on
// bad configuration.
import Foundation
import Store
import HTTPClient
import WorkerRuntime
import Wire

let runtime = WorkerRuntime.start(role: .notifier)
await runtime.run { runtime in
    let code = await NotifierProcess.run(arguments: Array(CommandLine.arguments.dropFirst()),
                                         environment: ProcessInfo.processInfo.environment,
                                         shutdown: runtime.shutdown, logger: runtime.logger)
    if code != 0 { exit(code) }
}
