// alert-worker-probe: the real alert-worker process (AlertWorkerProcess, WorkerRuntime, store, bus) with rules that
// raise one alert per check, each with an id unique to that check, so a block checked twice leaves two rows. The
// exactly-once tests kill it with SIGKILL at random points. A test fixture: no product ships it.
import Foundation
import AlertRules
import Store
import WorkerRuntime
import Wire

/// One `Startup`-kind alert per checked block whose id is unique to the check itself.
final class PerBlockProbeRules: BlockRules {
    let instance: String
    init(instance: String) { self.instance = instance }

    func alerts(for block: CanonicalBlock) throws -> [AlertPayload] {
        let hash = hexString(block.block.blockHash)
        return [AlertPayload(id: "check-\(hash)-\(UInt64.random(in: 0 ... .max))", kind: .startup, instance: instance,
                             network: "test", block: .init(height: block.height, hash: hash), title: "checked",
                             text: "checked", fields: ["parent": .string(hexString(block.parentHash)), "mode": .string("\(block.mode)")],
                             observedAt: "1970-01-01T00:00:00Z")]
    }

    func alerts(for event: ForkEvent) throws -> [AlertPayload] { [] }
}

let runtime = WorkerRuntime.start(role: .alertWorker)
await runtime.run { runtime in
    let code = await AlertWorkerProcess.run(arguments: Array(CommandLine.arguments.dropFirst()),
                                            environment: ProcessInfo.processInfo.environment,
                                            name: runtime.configuration.name, shutdown: runtime.shutdown, logger: runtime.logger,
                                            rules: PerBlockProbeRules(instance: runtime.configuration.name),
                                            commands: runtime.workerCommands)
    if code != 0 { exit(code) }
}
