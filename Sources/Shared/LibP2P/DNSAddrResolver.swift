import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Resolves `/dnsaddr/<host>` multiaddrs through DNS TXT records at `_dnsaddr.<host>` (`dnsaddr=<multiaddr>`),
/// as the libp2p bootstrap list needs. A small DNS client over UDP: one question, answers bounded in size.
public struct DNSAddrResolver: Sendable {
    /// The DNS server (from /etc/resolv.conf by default).
    public var server: SocketAddress
    public var timeout: Duration = .seconds(5)
    /// How many nested `/dnsaddr` hops are followed.
    public var maxDepth = 4

    public init(server: SocketAddress) { self.server = server }

    /// A resolver using the first `nameserver` of /etc/resolv.conf.
    public static func system() throws -> DNSAddrResolver {
        let text = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count >= 2, fields[0] == "nameserver" {
                return DNSAddrResolver(server: try SocketAddress(ipAddress: String(fields[1]), port: 53))
            }
        }
        throw DNSError.noResolver
    }

    /// The addresses `address` stands for: itself when it is not `/dnsaddr`, else the TXT records' multiaddrs
    /// (followed recursively), keeping only those that end in the same `/p2p/<id>` when it has one.
    public func resolve(_ address: Multiaddr) async throws -> [Multiaddr] {
        try await resolve(address, depth: 0)
    }

    private func resolve(_ address: Multiaddr, depth: Int) async throws -> [Multiaddr] {
        guard case .dnsaddr(let host)? = address.components.first else { return [address] }
        guard depth < maxDepth else { throw DNSError.tooDeep(address.description) }
        var out: [Multiaddr] = []
        for record in try await txtRecords("_dnsaddr." + host) where record.hasPrefix("dnsaddr=") {
            guard let found = try? Multiaddr(String(record.dropFirst("dnsaddr=".count))) else { continue }
            if let wanted = address.peerID, found.peerID != wanted { continue }
            out += try await resolve(found, depth: depth + 1)
        }
        return out
    }

    /// The TXT strings of `name` (each record's strings concatenated).
    public func txtRecords(_ name: String) async throws -> [String] {
        let id = UInt16.random(in: 0...UInt16.max)
        let query = try DNSMessage.query(id: id, name: name, type: 16)
        let replies = NIOLockedValueBox<CheckedContinuation<ByteBuffer, any Error>?>(nil)
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DNSReplyHandler(expectedID: id, replies: replies))
                }
            }
            .bind(host: server.protocol == .inet6 ? "::" : "0.0.0.0", port: 0).get()
        defer { channel.close(promise: nil) }
        let server = server
        let reply = try await withP2PDeadline(seconds: Double(timeout.components.seconds), "the DNS answer for \(name)") {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer, any Error>) in
                replies.withLockedValue { $0 = continuation }
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(bytes: query)), promise: nil)
            }
        }
        return try DNSMessage.txtAnswers(Array(reply.readableBytesView), id: id)
    }
}

private final class DNSReplyHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let expectedID: UInt16
    let replies: NIOLockedValueBox<CheckedContinuation<ByteBuffer, any Error>?>

    init(expectedID: UInt16, replies: NIOLockedValueBox<CheckedContinuation<ByteBuffer, any Error>?>) {
        self.expectedID = expectedID
        self.replies = replies
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.data.getInteger(at: envelope.data.readerIndex, as: UInt16.self) == expectedID else { return }
        let waiter = replies.withLockedValue { value in defer { value = nil }; return value }
        waiter?.resume(returning: envelope.data)
    }
}

/// DNS wire format (RFC 1035), only what a TXT query needs.
enum DNSMessage {
    static func query(id: UInt16, name: String, type: UInt16) throws -> [UInt8] {
        var out: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        out += try encodeName(name)
        out += [UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
        return out
    }

    static func encodeName(_ name: String) throws -> [UInt8] {
        var out: [UInt8] = []
        for label in name.split(separator: ".") {
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty, bytes.count <= 63 else { throw DNSError.badName(name) }
            out.append(UInt8(bytes.count))
            out += bytes
        }
        guard out.count <= 254 else { throw DNSError.badName(name) }
        return out + [0]
    }

    /// Skips a (possibly compressed) name starting at `offset`; returns the offset after it.
    static func skipName(_ bytes: [UInt8], _ offset: Int) throws(DNSError) -> Int {
        var i = offset
        for _ in 0..<128 {
            guard i < bytes.count else { throw .malformed("name runs past the end") }
            let length = Int(bytes[i])
            if length == 0 { return i + 1 }
            if length & 0xc0 == 0xc0 { guard i + 1 < bytes.count else { throw .malformed("truncated pointer") }; return i + 2 }
            guard length & 0xc0 == 0 else { throw .malformed("bad label type") }
            i += 1 + length
        }
        throw .malformed("name has too many labels")
    }

    static func txtAnswers(_ bytes: [UInt8], id: UInt16) throws(DNSError) -> [String] {
        guard bytes.count >= 12, bytes.count <= 65_535 else { throw .malformed("message of \(bytes.count) bytes") }
        func u16(_ at: Int) throws(DNSError) -> Int {
            guard at + 1 < bytes.count else { throw .malformed("truncated") }
            return Int(bytes[at]) << 8 | Int(bytes[at + 1])
        }
        guard try u16(0) == Int(id) else { throw .malformed("reply for another query") }
        let flags = try u16(2)
        guard flags & 0x8000 != 0 else { throw .malformed("not a response") }
        let rcode = flags & 0x000f
        if rcode == 3 { return [] }  // NXDOMAIN: no records
        guard rcode == 0 else { throw .serverFailure(rcode) }
        let questions = try u16(4), answers = try u16(6)
        var offset = 12
        for _ in 0..<questions { offset = try skipName(bytes, offset) + 4 }
        var out: [String] = []
        for _ in 0..<answers {
            offset = try skipName(bytes, offset)
            let type = try u16(offset)
            let length = try u16(offset + 8)
            let start = offset + 10
            guard start + length <= bytes.count else { throw .malformed("record data runs past the end") }
            if type == 16 {
                var text: [UInt8] = []
                var i = start
                while i < start + length {
                    let n = Int(bytes[i])
                    guard i + 1 + n <= start + length else { throw .malformed("TXT string runs past its record") }
                    text += bytes[(i + 1)..<(i + 1 + n)]
                    i += 1 + n
                }
                out.append(String(decoding: text, as: UTF8.self))
            }
            offset = start + length
        }
        return out
    }
}

/// Why a DNS lookup failed.
public enum DNSError: Error, Equatable, CustomStringConvertible {
    case noResolver
    case badName(String)
    case malformed(String)
    case serverFailure(Int)
    case tooDeep(String)

    public var description: String {
        switch self {
        case .noResolver: "no nameserver in /etc/resolv.conf"
        case .badName(let n): "\"\(n.prefix(80))\" is not a valid DNS name"
        case .malformed(let why): "malformed DNS reply: \(why)"
        case .serverFailure(let code): "the DNS server answered with error code \(code)"
        case .tooDeep(let a): "/dnsaddr records nest too deep resolving \(a)"
        }
    }
}
