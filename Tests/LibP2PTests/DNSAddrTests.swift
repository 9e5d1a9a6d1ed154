import NIOCore
import NIOPosix
import Testing
@testable import LibP2P

/// A DNS server on 127.0.0.1 that answers TXT questions from a fixed table (loopback only).
final class LoopbackDNSServer: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let records: [String: [String]]

    init(records: [String: [String]]) { self.records = records }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let query = Array(envelope.data.readableBytesView)
        guard query.count > 12 else { return }
        // The question name.
        var labels: [String] = []
        var i = 12
        while i < query.count, query[i] != 0 {
            let n = Int(query[i])
            labels.append(String(decoding: query[(i + 1)..<(i + 1 + n)], as: UTF8.self))
            i += 1 + n
        }
        let questionEnd = i + 5
        let answers = records[labels.joined(separator: ".")] ?? []
        var reply = Array(query[0..<2]) + [0x81, answers.isEmpty ? 0x83 : 0x80, 0, 1, 0, UInt8(answers.count), 0, 0, 0, 0]
        reply += query[12..<questionEnd]
        for text in answers {
            let bytes = Array(text.utf8)
            // Split into 255-byte strings, as long TXT records are.
            var rdata: [UInt8] = []
            var rest = bytes[...]
            while !rest.isEmpty { let part = rest.prefix(255); rdata += [UInt8(part.count)] + part; rest = rest.dropFirst(part.count) }
            reply += [0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, UInt8(rdata.count >> 8), UInt8(rdata.count & 0xff)] + rdata
        }
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: reply))), promise: nil)
    }
}

@Suite struct DNSAddrTests {
    @Test func resolvesNestedDnsaddrAndFiltersByPeerID() async throws {
        let id1 = "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN", id2 = "QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa"
        let server = LoopbackDNSServer(records: [
            "_dnsaddr.bootstrap.example": ["dnsaddr=/dnsaddr/sv15.bootstrap.example/p2p/\(id1)", "dnsaddr=/dnsaddr/ny5.bootstrap.example/p2p/\(id2)", "unrelated=1"],
            "_dnsaddr.sv15.bootstrap.example": ["dnsaddr=/ip4/145.40.118.135/tcp/4001/p2p/\(id1)", "dnsaddr=/ip6/2604:1380:40e1:9c00::1/tcp/4001/p2p/\(id1)"],
            "_dnsaddr.ny5.bootstrap.example": ["dnsaddr=/dns4/ny5.bootstrap.example/tcp/443/p2p/\(id2)"],
        ])
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(server) } }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        let resolver = DNSAddrResolver(server: channel.localAddress!)
        let all = try await resolver.resolve(try Multiaddr("/dnsaddr/bootstrap.example"))
        #expect(Set(all.map(\.description)) == [
            "/ip4/145.40.118.135/tcp/4001/p2p/\(id1)", "/ip6/2604:1380:40e1:9c00::1/tcp/4001/p2p/\(id1)",
            "/dns4/ny5.bootstrap.example/tcp/443/p2p/\(id2)",
        ])
        let one = try await resolver.resolve(try Multiaddr("/dnsaddr/bootstrap.example/p2p/\(id2)"))
        #expect(one.map(\.description) == ["/dns4/ny5.bootstrap.example/tcp/443/p2p/\(id2)"])
        #expect(try await resolver.resolve(try Multiaddr("/dnsaddr/missing.example")).isEmpty)
        // Not /dnsaddr: returned as it is.
        #expect(try await resolver.resolve(try Multiaddr("/ip4/1.2.3.4/tcp/1")).map(\.description) == ["/ip4/1.2.3.4/tcp/1"])
    }

    @Test func malformedRepliesAreTypedErrors() throws {
        var generator = SystemRandomNumberGenerator()
        let good: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0x61, 0, 0, 16, 0, 1,
                             0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 2, 0x68, 0x69]
        #expect(try DNSMessage.txtAnswers(good, id: 0x1234) == ["hi"])
        for _ in 0..<2000 {
            var bytes = good
            bytes[Int.random(in: 0..<bytes.count, using: &generator)] = .random(in: 0...255, using: &generator)
            if Bool.random(using: &generator) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))) }
            do { _ = try DNSMessage.txtAnswers(bytes, id: 0x1234) } catch {}
        }
    }
}
