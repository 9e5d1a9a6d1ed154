import Logging
import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// The real `ControlChannel`: the bus's `ControlServer` (a ROUTER bound at the control endpoint).
/// Send failures (a peer that went away) are logged, never fatal: the worker's exit is handled
/// through the process host anyway.
final class ControlServerChannel: ControlChannel {
    typealias Peer = ControlPeer

    let events: AsyncStream<ControlEvent<ControlPeer>>
    private let server: ControlServer
    private let logger: Logger

    init(endpoint: String, logger: Logger) throws(BusError) {
        let server = try ControlServer(endpoint: endpoint, logger: logger)
        self.server = server
        self.logger = logger
        let (events, continuation) = AsyncStream.makeStream(of: ControlEvent<ControlPeer>.self)
        self.events = events
        let source = server.events
        Task {
            for await event in source {
                switch event {
                case .hello(let hello, let peer): continuation.yield(.hello(hello, from: peer))
                case .heartbeat(let beat, let peer): continuation.yield(.heartbeat(beat, from: peer))
                case .ctlRequest(let request, let peer): continuation.yield(.ctl(request, from: peer))
                }
            }
            continuation.finish()
        }
    }

    func reply(_ response: CtlResponse, to peer: ControlPeer) async {
        do {
            try server.reply(response, to: peer)
        } catch {
            logger.warning("could not answer a ctl request", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    func send(_ command: SupervisorCommand, to peer: ControlPeer) async {
        do {
            try server.send(command, to: peer)
        } catch {
            logger.warning("could not send a command to a worker", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    func close() async {
        server.close()
        await server.closed()
    }
}
