// devnode: a simulated Subspace node speaking the legacy Substrate JSON-RPC over WebSocket, driven by a
// scenario (history, live blocks, scripted extrinsics/events, forks, stalls, several nodes, faults).
do {
    let command = try DevnodeCommand.parse(Array(CommandLine.arguments.dropFirst()))
    try await command.serve()
} catch {
    DevnodeCommand.exit(withError: error)
}
