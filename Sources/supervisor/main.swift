import Logging

// Wiring only: logging to stderr once, then the command line decides what runs.
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
await SupervisorCLI.start()
