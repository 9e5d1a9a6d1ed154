import SubstratePrimitives
/// A block decoded with its runtime's metadata: header, extrinsics and (when available) events.
public struct DecodedBlock: Sendable {
    public let header: BlockHeader
    public let extrinsics: [DecodedExtrinsic]
    /// Nil when the events storage value was not supplied.
    public let events: [DecodedEvent]?

    /// The block hash (blake2b-256 of the header).
    public var hash: [UInt8] { header.hash }

    /// Chain time: the `now` argument (ms since the Unix epoch) of the block's `Timestamp.set`, if present.
    public var timestamp: UInt64? {
        extrinsics.first { $0.call.pallet == "Timestamp" && $0.call.name == "set" }?.call["now"]?.asUInt64
    }

    /// The events emitted by extrinsic `index` (phase `ApplyExtrinsic(index)`).
    public func events(ofExtrinsic index: Int) -> [DecodedEvent] {
        (events ?? []).filter { $0.extrinsicIndex == index }
    }
}

extension RuntimeMetadata {
    /// Decodes a whole block. Every part must decode completely; the first failure is thrown with its location.
    public func decodeBlock(header: [UInt8], extrinsics: [[UInt8]], events: [UInt8]?) throws(BlockDecodingError) -> DecodedBlock {
        let decodedHeader: BlockHeader
        do {
            decodedHeader = try BlockHeader(scale: header)
        } catch {
            throw BlockDecodingError(part: "header", error: error)
        }
        var decoded: [DecodedExtrinsic] = []
        decoded.reserveCapacity(extrinsics.count)
        for (index, bytes) in extrinsics.enumerated() {
            do {
                decoded.append(try decodeExtrinsic(bytes))
            } catch {
                throw BlockDecodingError(part: "extrinsic \(index)", error: error)
            }
        }
        var decodedEvents: [DecodedEvent]?
        if let events {
            do {
                decodedEvents = try decodeEvents(events)
            } catch {
                throw BlockDecodingError(part: "events", error: error)
            }
        }
        return DecodedBlock(header: decodedHeader, extrinsics: decoded, events: decodedEvents)
    }
}

/// A block part (header, extrinsic n, events) that did not decode, with the SCALE error inside it.
public struct BlockDecodingError: Error, Sendable, CustomStringConvertible {
    public let part: String
    public let error: ScaleError

    public var description: String { "cannot decode \(part): \(error)" }
}
