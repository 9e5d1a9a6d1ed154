import Foundation

/// A multiaddr (libp2p/specs addressing, multiformats/multiaddr): a list of protocol components, with the
/// text form `/ip4/1.2.3.4/tcp/4001/p2p/12D3KooW…` and the binary form `varint(code) ‖ value`.
/// Supported protocols: ip4, ip6, dns4, dns6, dnsaddr, tcp, p2p.
public struct Multiaddr: Hashable, Sendable, CustomStringConvertible {
    /// One protocol component.
    public enum Component: Hashable, Sendable {
        case ip4([UInt8])
        case ip6([UInt8])
        case dns4(String)
        case dns6(String)
        case dnsaddr(String)
        case tcp(UInt16)
        case p2p(PeerID)

        var code: UInt64 {
            switch self {
            case .ip4: 0x04
            case .tcp: 0x06
            case .ip6: 0x29
            case .dns4: 0x36
            case .dns6: 0x37
            case .dnsaddr: 0x38
            case .p2p: 0x01a5
            }
        }
    }

    /// The components in order.
    public var components: [Component]

    /// A multiaddr of these components.
    public init(_ components: [Component]) { self.components = components }

    /// The longest text or binary multiaddr accepted, so that a peer cannot make us parse megabytes.
    public static let maxLength = 1024

    // MARK: Text

    /// Parses the text form.
    public init(_ text: String) throws(P2PDecodingError) {
        guard text.utf8.count <= Self.maxLength else { throw .tooLong(what: "multiaddr", length: text.utf8.count, limit: Self.maxLength) }
        guard text.hasPrefix("/") else { throw .invalid("multiaddr \"\(text)\" does not start with /") }
        var parts = text.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        if parts.last == "" { parts.removeLast() }
        var components: [Component] = []
        var index = 0
        func value(_ name: String) throws(P2PDecodingError) -> String {
            index += 1
            guard index < parts.count, !parts[index].isEmpty else { throw .invalid("multiaddr \"\(text)\": /\(name) needs a value") }
            return parts[index]
        }
        while index < parts.count {
            let name = parts[index]
            switch name {
            case "ip4":
                let v = try value(name)
                guard let bytes = Self.parseIPv4(v) else { throw .invalid("multiaddr \"\(text)\": \(v) is not an IPv4 address") }
                components.append(.ip4(bytes))
            case "ip6":
                let v = try value(name)
                guard let bytes = Self.parseIPv6(v) else { throw .invalid("multiaddr \"\(text)\": \(v) is not an IPv6 address") }
                components.append(.ip6(bytes))
            case "dns4": components.append(.dns4(try Self.checkedHost(try value(name))))
            case "dns6": components.append(.dns6(try Self.checkedHost(try value(name))))
            case "dnsaddr": components.append(.dnsaddr(try Self.checkedHost(try value(name))))
            case "tcp":
                let v = try value(name)
                guard let port = UInt16(v) else { throw .invalid("multiaddr \"\(text)\": tcp port \(v) is not 0–65535") }
                components.append(.tcp(port))
            case "p2p", "ipfs": components.append(.p2p(try PeerID(try value(name))))
            default: throw .invalid("multiaddr \"\(text)\": protocol /\(name) is not supported (ip4, ip6, dns4, dns6, dnsaddr, tcp, p2p)")
            }
            index += 1
        }
        guard !components.isEmpty else { throw .invalid("multiaddr \"\(text)\" is empty") }
        self.components = components
    }

    public var description: String {
        components.map { component -> String in
            switch component {
            case .ip4(let b): "/ip4/" + b.map(String.init).joined(separator: ".")
            case .ip6(let b): "/ip6/" + Self.formatIPv6(b)
            case .dns4(let h): "/dns4/" + h
            case .dns6(let h): "/dns6/" + h
            case .dnsaddr(let h): "/dnsaddr/" + h
            case .tcp(let p): "/tcp/\(p)"
            case .p2p(let id): "/p2p/\(id)"
            }
        }.joined()
    }

    // MARK: Binary

    /// The binary form.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        for component in components {
            out += UVarint.encode(component.code)
            switch component {
            case .ip4(let b), .ip6(let b): out += b
            case .dns4(let h), .dns6(let h), .dnsaddr(let h):
                out += UVarint.encode(UInt64(h.utf8.count)) + Array(h.utf8)
            case .tcp(let p): out += [UInt8(p >> 8), UInt8(p & 0xff)]
            case .p2p(let id): out += UVarint.encode(UInt64(id.bytes.count)) + id.bytes
            }
        }
        return out
    }

    /// Parses the binary form.
    public init(bytes: [UInt8]) throws(P2PDecodingError) {
        guard bytes.count <= Self.maxLength else { throw .tooLong(what: "multiaddr", length: bytes.count, limit: Self.maxLength) }
        var cursor = ByteCursor(bytes)
        var components: [Component] = []
        while !cursor.isAtEnd {
            let code = try cursor.readVarint("multiaddr protocol code")
            func sized() throws(P2PDecodingError) -> [UInt8] {
                let length = try cursor.readVarint("multiaddr value length")
                guard length <= UInt64(Self.maxLength) else { throw .tooLong(what: "multiaddr value", length: Int(min(length, UInt64(Int.max))), limit: Self.maxLength) }
                return try cursor.readBytes(Int(length), "multiaddr value")
            }
            func host() throws(P2PDecodingError) -> String {
                guard let h = String(validating: try sized(), as: UTF8.self) else { throw .invalid("multiaddr host name is not UTF-8") }
                return try Self.checkedHost(h)
            }
            switch code {
            case 0x04: components.append(.ip4(try cursor.readBytes(4, "ip4 address")))
            case 0x29: components.append(.ip6(try cursor.readBytes(16, "ip6 address")))
            case 0x06:
                let p = try cursor.readBytes(2, "tcp port")
                components.append(.tcp(UInt16(p[0]) << 8 | UInt16(p[1])))
            case 0x36: components.append(.dns4(try host()))
            case 0x37: components.append(.dns6(try host()))
            case 0x38: components.append(.dnsaddr(try host()))
            case 0x01a5: components.append(.p2p(try PeerID(bytes: try sized())))
            default: throw .invalid("multiaddr protocol code 0x\(String(code, radix: 16)) is not supported")
            }
        }
        guard !components.isEmpty else { throw .invalid("multiaddr is empty") }
        self.components = components
    }

    // MARK: Parts

    /// The `/p2p/` peer ID, if any.
    public var peerID: PeerID? {
        for case .p2p(let id) in components { return id }
        return nil
    }

    /// The address without its `/p2p/` component.
    public var withoutPeerID: Multiaddr {
        Multiaddr(components.filter { if case .p2p = $0 { false } else { true } })
    }

    /// Host and TCP port to dial, when the address is `/ip4|ip6|dns4|dns6/…/tcp/…`.
    public var tcpTarget: (host: String, port: Int)? {
        guard components.count >= 2, case .tcp(let port) = components[1] else { return nil }
        switch components[0] {
        case .ip4(let b): return (b.map(String.init).joined(separator: "."), Int(port))
        case .ip6(let b): return (Self.formatIPv6(b), Int(port))
        case .dns4(let h), .dns6(let h): return (h, Int(port))
        default: return nil
        }
    }

    // MARK: Address text

    static func checkedHost(_ host: String) throws(P2PDecodingError) -> String {
        guard !host.isEmpty, host.utf8.count <= 253, !host.contains("/") else { throw .invalid("\"\(host.prefix(80))\" is not a DNS name") }
        return host
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let v = UInt8(part),
                  part == "0" || !part.hasPrefix("0") else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard text.utf8.count <= 45, inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    static func formatIPv6(_ bytes: [UInt8]) -> String {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { raw in for i in 0..<16 { raw[i] = bytes[i] } }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return "::" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
