import NIOCore

/// multistream-select 1.0 (libp2p/specs connections/README.md, multiformats/multistream-select): protocol
/// negotiation on a fresh stream. Each message is `varint(length) ‖ text ‖ "\n"`.
public enum Multistream {
    static let header = "/multistream/1.0.0"
    static let notAvailable = "na"
    static let list = "ls"
    /// The longest message accepted; protocol ids are short, and `ls` replies stay far below this.
    static let maxMessageLength = 1024
    /// How many proposals a listener answers with `na` before it gives up on the dialer.
    static let maxProposals = 32

    static func encode(_ line: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        UVarint.write(UInt64(line.utf8.count + 1), to: &buffer)
        buffer.writeString(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    /// Decodes the text of one message body (without the length); it must end with a newline.
    static func decodeLine(_ body: ByteBuffer) throws(P2PDecodingError) -> String {
        let bytes = Array(body.readableBytesView)
        guard bytes.last == UInt8(ascii: "\n") else { throw .invalid("multistream message does not end with a newline") }
        guard let text = String(validating: bytes.dropLast(), as: UTF8.self) else { throw .invalid("multistream message is not UTF-8") }
        return text
    }

    static func readLine(_ stream: some ByteStream) async throws -> String {
        try decodeLine(try await stream.readLengthPrefixed(limit: maxMessageLength, "a multistream message"))
    }

    /// Dialer side: proposes each of `protocols` in turn and returns the one the listener accepted.
    public static func select(_ protocols: [String], on stream: some ByteStream) async throws -> String {
        guard let first = protocols.first else { throw MultistreamError.noProtocolAgreed(protocols) }
        var opening = encode(header)
        var proposal = encode(first)
        opening.writeBuffer(&proposal)
        try await stream.write(opening)
        let theirs = try await readLine(stream)
        guard theirs == header else { throw MultistreamError.badHeader(theirs) }
        for (index, proto) in protocols.enumerated() {
            if index > 0 { try await stream.write(encode(proto)) }
            let answer = try await readLine(stream)
            if answer == proto { return proto }
            guard answer == notAvailable else { throw MultistreamError.unexpectedAnswer(proposed: proto, answer: answer) }
        }
        throw MultistreamError.noProtocolAgreed(protocols)
    }

    /// Listener side: answers proposals until one is in `supported` (returned), `na` otherwise; `ls` lists them.
    public static func negotiate(supported: [String], on stream: some ByteStream) async throws -> String {
        let theirs = try await readLine(stream)
        guard theirs == header else { throw MultistreamError.badHeader(theirs) }
        try await stream.write(encode(header))
        for _ in 0..<maxProposals {
            let proposal = try await readLine(stream)
            if supported.contains(proposal) {
                try await stream.write(encode(proposal))
                return proposal
            }
            if proposal == list {
                var body = ByteBuffer()
                for proto in supported { var line = encode(proto); body.writeBuffer(&line) }
                body.writeInteger(UInt8(ascii: "\n"))
                var reply = ByteBuffer()
                UVarint.write(UInt64(body.readableBytes), to: &reply)
                reply.writeBuffer(&body)
                try await stream.write(reply)
            } else {
                try await stream.write(encode(notAvailable))
            }
        }
        throw MultistreamError.tooManyProposals
    }

    /// Asks a listener for its protocols with `ls`.
    public static func listProtocols(on stream: some ByteStream) async throws -> [String] {
        var opening = encode(header)
        var ls = encode(list)
        opening.writeBuffer(&ls)
        try await stream.write(opening)
        let theirs = try await readLine(stream)
        guard theirs == header else { throw MultistreamError.badHeader(theirs) }
        var body = try await stream.readLengthPrefixed(limit: 64 * 1024, "an ls reply")
        var protocols: [String] = []
        let bytes = Array(body.readBytes(length: body.readableBytes) ?? [])
        var cursor = ByteCursor(bytes)
        while !cursor.isAtEnd {
            if bytes.count - cursor.offset == 1, bytes[cursor.offset] == UInt8(ascii: "\n") { break }
            let length = try cursor.readVarint("ls entry length")
            guard length <= UInt64(maxMessageLength) else { throw P2PDecodingError.tooLong(what: "ls entry", length: Int(length), limit: maxMessageLength) }
            let entry = try cursor.readBytes(Int(length), "ls entry")
            var entryBuffer = ByteBuffer()
            entryBuffer.writeBytes(entry)
            protocols.append(try decodeLine(entryBuffer))
        }
        return protocols
    }
}

/// Why protocol negotiation failed.
public enum MultistreamError: Error, Equatable, CustomStringConvertible {
    case badHeader(String)
    case unexpectedAnswer(proposed: String, answer: String)
    case noProtocolAgreed([String])
    case tooManyProposals

    public var description: String {
        switch self {
        case .badHeader(let h): "multistream-select: expected /multistream/1.0.0, got \"\(h.prefix(80))\""
        case .unexpectedAnswer(let p, let a): "multistream-select: proposed \(p), peer answered \"\(a.prefix(80))\""
        case .noProtocolAgreed(let ps): "multistream-select: the peer supports none of \(ps.joined(separator: ", "))"
        case .tooManyProposals: "multistream-select: the peer proposed more than \(Multistream.maxProposals) protocols"
        }
    }
}
