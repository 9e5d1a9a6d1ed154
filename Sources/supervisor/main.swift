import Foundation
import Logging
import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

// Wiring only: logging to stderr once (level from CHAIN_ALERTER_LOG_LEVEL, as for the workers),
// then the command line decides what runs.
let level = ProcessInfo.processInfo.environment[WorkerEnvironment.logLevel]
    .flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = level
    return handler
}
await SupervisorCLI.start()
