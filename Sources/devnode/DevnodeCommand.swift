import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// The devnode command line.
struct DevnodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devnode",
        abstract: "A simulated Subspace node (WebSocket JSON-RPC) driven by a scenario.")

    @Option(help: "Listen address.")
    var host = "127.0.0.1"

    @Option(help: "Port of the first node (the next nodes take the following ports); 0 = any free port.")
    var port = 9944

    @Option(help: "Scenario file (TOML or JSON); default: the bundled demo scenario.")
    var scenario: String?

    @Option(help: "Override the scenario's history length.")
    var history: Int?

    @Option(help: "Override the scenario's block interval (milliseconds).")
    var blockIntervalMs: Int?

    @Option(help: "Override the scenario's last block (0 = produce forever).")
    var endAt: UInt64?

    @Flag(help: "Exit when the scenario ends instead of serving on.")
    var exitAtEnd = false

    @Option(help: "PEM certificate: serve wss:// instead of ws://.")
    var tlsCertificate: String?

    @Option(help: "PEM private key for --tls-certificate.")
    var tlsKey: String?

    func run() async throws {
        try await serve()
    }

    /// Loads the scenario, starts the listeners, produces blocks; returns at the scenario's end with `--exit-at-end`.
    func serve() async throws {
        var scenario: Scenario
        do {
            scenario = try self.scenario.map { path throws(ScenarioError) in try Scenario.load(path: path) } ?? Scenario.parse(Scenario.bundledDemo)
        } catch {
            FileHandle.standardError.write(Data("devnode: \(error)\n".utf8))
            throw ExitCode(78)
        }
        if let history { scenario.history = history }
        if let blockIntervalMs { scenario.blockIntervalMilliseconds = blockIntervalMs }
        if let endAt { scenario.endAt = endAt == 0 ? nil : endAt }
        var tls: NIOSSLContext? = nil
        if let tlsCertificate {
            guard let tlsKey else {
                FileHandle.standardError.write(Data("devnode: --tls-certificate needs --tls-key\n".utf8))
                throw ExitCode(78)
            }
            let chain = try NIOSSLCertificate.fromPEMFile(tlsCertificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tlsKey, format: .pem)
            tls = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        }
        let devnode = Devnode(scenario: scenario)
        let ports = try await devnode.start(host: host, firstPort: port, tls: tls)
        let scheme = tls == nil ? "ws" : "wss"
        for (node, port) in zip(devnode.servers.map(\.node.name), ports) {
            say("devnode: listening node=\(node) url=\(scheme)://\(host):\(port)")
        }
        say("devnode: chain=\"\(DevRuntime.chainName)\" genesis=0x\(devnode.chain.genesisHash.map { String(format: "%02x", $0) }.joined()) best=\(devnode.chain.best.number)")
        let production = Task { await devnode.chain.run() }
        await production.value
        say("devnode: scenario '\(scenario.name)' ended at block \(devnode.chain.best.number)")
        if exitAtEnd {
            await devnode.stop()
            return
        }
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}

/// Writes a line to standard output at once (tests and `supervisor demo` read it).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A devnode: one chain, one listener per scenario node.
final class Devnode: Sendable {
    let chain: DevChain
    let servers: [DevServer]
    let group: MultiThreadedEventLoopGroup

    init(scenario: Scenario, threads: Int = 1) {
        let chain = DevChain(scenario: scenario)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let nodes = (scenario.nodes?.isEmpty ?? true) ? [Scenario.Node(name: "devnode-0")] : scenario.nodes!
        self.chain = chain
        self.group = group
        servers = nodes.map { DevServer(chain: chain, node: $0, group: group) }
    }

    /// Starts every listener; returns their ports.
    func start(host: String = "127.0.0.1", firstPort: Int, tls: NIOSSLContext? = nil) async throws -> [Int] {
        var ports: [Int] = []
        for (offset, server) in servers.enumerated() {
            ports.append(try await server.start(host: host, port: firstPort == 0 ? 0 : firstPort + offset, tls: tls))
        }
        return ports
    }

    func stop() async {
        for server in servers { await server.stop() }
    }
}
