import Logging
import Shared

/// The real `ControlChannel`. PLACEHOLDER until the bus branch lands `ControlServer`.
final class ControlServerChannel: ControlChannel {
    typealias Peer = Int
    let events: AsyncStream<ControlEvent<Int>>
    private let continuation: AsyncStream<ControlEvent<Int>>.Continuation

    init(endpoint: String, logger: Logger) throws {
        (events, continuation) = AsyncStream.makeStream(of: ControlEvent<Int>.self)
    }

    func reply(_ response: CtlResponse, to peer: Int) async {}
    func send(_ command: SupervisorCommand, to peer: Int) async {}
    func close() async { continuation.finish() }
}
