import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// One message that arrived on the supervisor's control socket, with the peer that sent it.
enum ControlEvent<Peer: Sendable>: Sendable {
    case hello(WorkerHello, from: Peer)
    case heartbeat(WorkerHeartbeat, from: Peer)
    case ctl(CtlRequest, from: Peer)
}

/// The supervisor's side of the control plane, as the supervisor needs it. The real one wraps the
/// bus's `ControlServer`; tests use a fake that injects events and records what was sent.
protocol ControlChannel: Sendable {
    /// Identifies a connected worker or ctl client, so that an answer goes back to it.
    associatedtype Peer: Sendable

    var events: AsyncStream<ControlEvent<Peer>> { get }
    func reply(_ response: CtlResponse, to peer: Peer) async
    func send(_ command: SupervisorCommand, to peer: Peer) async
    func close() async
}
