import Foundation
import Logging

// Wiring only: see NotifierProcess (start-up) and Notifier (the delivery loops).
LoggingSystem.bootstrap(StreamLogHandler.standardError)
let code = await NotifierProcess.run(arguments: Array(CommandLine.arguments.dropFirst()),
                                     environment: ProcessInfo.processInfo.environment)
exit(code)
