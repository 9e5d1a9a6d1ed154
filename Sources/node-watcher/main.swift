// node-watcher: follows one node over WebSocket (ws:// or wss://), pushes every header it sees and its
// connection status to the fork-worker, and answers the fork-worker's fetch requests.
// Wiring only: WorkerRuntime (READY, heartbeats, SIGTERM, supervisor death) around NodeWatcher.
import Foundation
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

let runtime = WorkerRuntime.start(role: .nodeWatcher)
await runtime.run { runtime in
    let settings: WatcherSettings
    do throws(ConfigError) {
        settings = try WatcherStartup.settings(arguments: Array(CommandLine.arguments.dropFirst()),
                                               environment: ProcessInfo.processInfo.environment,
                                               workerName: runtime.configuration.name,
                                               stateDirectory: runtime.configuration.stateDirectory)
    } catch {
        FileHandle.standardError.write(Data("node-watcher: \(error)\n".utf8))
        exit(ConfigError.exitCode)
    }
    let watcher: NodeWatcher
    do {
        watcher = try NodeWatcher(settings: settings, logger: runtime.logger)
    } catch {
        runtime.logger.critical("cannot open the data-path sockets", metadata: ["error": "\(error)"])
        exit(1)
    }
    runtime.logger.info("watching", metadata: ["node": "\(settings.nodeURL)", "blocks": "\(settings.blocksEndpoint)", "fetch": "\(settings.fetchEndpoint)"])
    await watcher.run(shutdown: runtime.shutdown)
}
