import SubstratePrimitives
/// The logic of `supervisor decode`: decode a block, an extrinsic or an events value with given metadata and
/// produce the normalized JSON. Kept free of I/O so tests can drive it directly.
public enum DecodeTool {
    /// What to decode.
    public enum Input: Sendable {
        /// The contents of a block JSON file with `header_scale`, `extrinsics` and `events_storage_hex`.
        case blockJSON([UInt8])
        /// One extrinsic as 0x-hex, including its compact length prefix.
        case extrinsicHex(String)
        /// A `System.Events` storage value as 0x-hex.
        case eventsHex(String)
    }

    /// Why decoding failed; the message says what input was wrong and where.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case metadata(MetadataError)
        case invalidHex(what: String)
        case invalidBlockFile(String)
        case decoding(what: String, ScaleError)

        public var description: String {
            switch self {
            case .metadata(let e): "cannot use the metadata: \(e)"
            case .invalidHex(let what): "\(what) is not valid hex"
            case .invalidBlockFile(let detail): "invalid block file: \(detail)"
            case .decoding(let what, let e): "cannot decode \(what): \(e)"
            }
        }
    }

    /// Parses raw metadata bytes (also accepts the same bytes as 0x-hex text, which operators often have at hand).
    public static func metadata(from bytes: [UInt8]) throws(Failure) -> RuntimeMetadata {
        var raw = bytes
        if raw.first == UInt8(ascii: "0"), let text = String(validating: raw, as: UTF8.self),
           let decoded = Hex.decode(text.trimmingWhitespace()) {
            raw = decoded
        }
        do {
            return try RuntimeMetadata(bytes: raw)
        } catch {
            throw .metadata(error)
        }
    }

    /// Decodes the input and returns the normalized JSON value.
    public static func decode(_ input: Input, metadata: RuntimeMetadata) throws(Failure) -> JSONValue {
        switch input {
        case .extrinsicHex(let hex):
            guard let bytes = Hex.decode(hex.trimmingWhitespace()) else { throw .invalidHex(what: "--extrinsic") }
            do {
                return NormalizedJSON.extrinsic(try metadata.decodeExtrinsic(bytes), index: 0)
            } catch {
                throw .decoding(what: "the extrinsic", error)
            }
        case .eventsHex(let hex):
            guard let bytes = Hex.decode(hex.trimmingWhitespace()) else { throw .invalidHex(what: "--events") }
            do {
                return .array(try metadata.decodeEvents(bytes).map(NormalizedJSON.event))
            } catch {
                throw .decoding(what: "the events", error)
            }
        case .blockJSON(let fileBytes):
            let file: JSONValue
            do {
                file = try JSONValue.parse(fileBytes)
            } catch {
                throw .invalidBlockFile(error.description)
            }
            return try decodeBlock(file, metadata: metadata)
        }
    }

    /// Decodes a block given as `{header_scale, extrinsics, events_storage_hex}`.
    public static func decodeBlock(_ file: JSONValue, metadata: RuntimeMetadata) throws(Failure) -> JSONValue {
        guard case .string(let headerHex)? = file["header_scale"] else { throw .invalidBlockFile("missing string field header_scale") }
        guard case .array(let extrinsicItems)? = file["extrinsics"] else { throw .invalidBlockFile("missing array field extrinsics") }
        guard let headerBytes = Hex.decode(headerHex) else { throw .invalidHex(what: "header_scale") }
        let header: BlockHeader
        do {
            header = try BlockHeader(scale: headerBytes)
        } catch {
            throw .decoding(what: "the header", error)
        }
        guard case .object(var members) = NormalizedJSON.header(header) else { throw .invalidBlockFile("internal: header is not an object") }
        var extrinsics: [JSONValue] = []
        for (index, item) in extrinsicItems.enumerated() {
            guard case .string(let hex) = item, let bytes = Hex.decode(hex) else { throw .invalidHex(what: "extrinsics[\(index)]") }
            do {
                extrinsics.append(NormalizedJSON.extrinsic(try metadata.decodeExtrinsic(bytes), index: index))
            } catch {
                throw .decoding(what: "extrinsic \(index)", error)
            }
        }
        members.append(("extrinsics", .array(extrinsics)))
        switch file["events_storage_hex"] {
        case .string(let hex)?:
            guard let bytes = Hex.decode(hex) else { throw .invalidHex(what: "events_storage_hex") }
            do {
                members.append(("events", .array(try metadata.decodeEvents(bytes).map(NormalizedJSON.event))))
            } catch {
                throw .decoding(what: "the events", error)
            }
        default:
            members.append(("events", .null))
        }
        return .object(members)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
