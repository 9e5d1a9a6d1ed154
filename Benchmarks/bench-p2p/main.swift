// bench-p2p: yamux stream throughput between two Swift hosts on loopback against raw TCP in the same run,
// and the time of a full dial (TCP, multistream-select, Noise XX, yamux), p50 and p99.
//   CHAIN_ALERTER_BENCHMARKS=1 swift build -c release --product bench-p2p && .build/release/bench-p2p
import Foundation
import LibP2P
import Logging
import NIOCore
import NIOPosix

let totalBytes = 256 << 20
let chunk = ByteBuffer(repeating: 0x5a, count: 64 * 1024)

/// Counts bytes until the client closes, then answers with one byte.
final class SinkHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var received = 0
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        if received >= totalBytes { context.writeAndFlush(NIOAny(ByteBuffer(bytes: [1])), promise: nil) }
    }
}

final class DoneHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let done: EventLoopPromise<Void>
    init(done: EventLoopPromise<Void>) { self.done = done }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { done.succeed(()) }
}

func rawTCP() async throws -> Double {
    let group = MultiThreadedEventLoopGroup.singleton
    let server = try await ServerBootstrap(group: group)
        .childChannelInitializer { $0.pipeline.addHandler(SinkHandler()) }
        .bind(host: "127.0.0.1", port: 0).get()
    let done = group.next().makePromise(of: Void.self)
    let client = try await ClientBootstrap(group: group)
        .channelInitializer { $0.pipeline.addHandler(DoneHandler(done: done)) }
        .connect(to: server.localAddress!).get()
    let start = ContinuousClock.now
    var sent = 0
    while sent < totalBytes {
        try await client.writeAndFlush(chunk)
        sent += chunk.readableBytes
    }
    try await done.futureResult.get()
    let elapsed = ContinuousClock.now - start
    try await client.close()
    try await server.close()
    return Double(totalBytes) / seconds(elapsed) / 1e6
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

let logger: Logger = {
    var logger = Logger(label: "bench-p2p")
    logger.logLevel = .error
    return logger
}()

func yamux() async throws -> Double {
    let server = P2PHost(identity: .generate(), logger: logger), client = P2PHost(identity: .generate(), logger: logger)
    server.setHandler("/bench/sink/1.0.0") { stream in
        var received = 0
        while let bytes = try await stream.read() { received += bytes.readableBytes }
        try await stream.write([UInt8(received == totalBytes ? 1 : 0)])
    }
    let connection = try await client.dial(try await server.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0")))
    let stream = try await connection.openStream("/bench/sink/1.0.0")
    let start = ContinuousClock.now
    var sent = 0
    while sent < totalBytes {
        try await stream.write(chunk)
        sent += chunk.readableBytes
    }
    try await stream.closeWrite()
    guard try await stream.read() != nil else { throw P2PStreamError.endOfStream("the sink's answer") }
    let elapsed = ContinuousClock.now - start
    await client.close()
    await server.close()
    return Double(totalBytes) / seconds(elapsed) / 1e6
}

func dials(count: Int) async throws -> [Double] {
    let server = P2PHost(identity: .generate(), logger: logger), client = P2PHost(identity: .generate(), logger: logger)
    let address = try await server.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
    var times: [Double] = []
    for _ in 0..<count {
        let start = ContinuousClock.now
        let connection = try await client.dial(address)
        times.append(seconds(ContinuousClock.now - start) * 1000)
        await connection.close()
    }
    await client.close()
    await server.close()
    return times.sorted()
}

let raw = try await rawTCP()
let muxed = try await yamux()
print(String(format: "raw TCP:      %8.1f MB/s  (%d MiB, loopback)", raw, totalBytes >> 20))
print(String(format: "yamux stream: %8.1f MB/s  (%.0f%% of raw TCP; Noise ChaChaPoly + yamux, one stream)", muxed, muxed / raw * 100))
let times = try await dials(count: 200)
print(String(format: "dial + upgrade (TCP, multistream, Noise XX, yamux), 200 dials: p50 %.2f ms, p99 %.2f ms",
             times[times.count / 2], times[min(times.count - 1, times.count * 99 / 100)]))
