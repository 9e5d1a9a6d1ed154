import SubstratePrimitives
/// When in the block an event was emitted.
public enum EventPhase: Sendable, Hashable {
    case applyExtrinsic(UInt32)
    case finalization
    case initialization
    /// A phase variant this decoder does not know; the decoded value is kept.
    case other(ScaleValue)
}

/// One record of `System.Events`: phase, pallet, event variant, named (or positional) fields and topics.
public struct DecodedEvent: Sendable, Hashable {
    /// Position in the events vector.
    public let index: Int
    public let phase: EventPhase
    /// The phase as decoded, for normalized output.
    public let phaseValue: ScaleValue
    public let palletIndex: UInt8
    public let pallet: String
    public let variantIndex: UInt8
    public let name: String
    public let fields: [ScaleField]
    public let topics: [[UInt8]]
    /// The complete `EventRecord` value; encoding it with the record type gives back its bytes.
    public let record: ScaleValue

    /// The named field (e.g. `event["amount"]`).
    public subscript(_ field: String) -> ScaleValue? { fields.first { $0.name == field }?.value }

    /// The n-th field, for events whose fields are unnamed.
    public subscript(_ position: Int) -> ScaleValue? { position >= 0 && position < fields.count ? fields[position].value : nil }

    /// The index of the extrinsic that emitted this event, if any.
    public var extrinsicIndex: Int? {
        if case .applyExtrinsic(let i) = phase { return Int(i) }
        return nil
    }
}

extension RuntimeMetadata {
    /// The storage key of `System.Events`: twox128("System") ++ twox128("Events").
    public static var systemEventsStorageKey: [UInt8] { StorageKey.plain(pallet: "System", item: "Events") }

    /// Decodes the raw `System.Events` storage value into event records. The whole value must be consumed.
    public func decodeEvents(_ bytes: [UInt8]) throws(ScaleError) -> [DecodedEvent] {
        guard let eventsTypeId, let vectorType = registry[eventsTypeId], case .sequence(let recordTypeId) = vectorType.shape else {
            throw ScaleError(.invalidValue("the metadata has no System.Events storage of vector type"), offset: 0, typeName: "System.Events")
        }
        var r = ScaleReader(bytes)
        let count = try r.readLength(vectorType.displayName, minimumElementSize: max(registry.minimumSizes[recordTypeId], 1))
        var events: [DecodedEvent] = []
        events.reserveCapacity(count)
        for index in 0 ..< count {
            let start = r.offset
            let record = try registry.decode(recordTypeId, from: &r)
            guard let event = Self.eventRecord(record, index: index) else {
                throw ScaleError(.invalidValue("the event record type is not {phase, event, topics}"), offset: start, typeName: "EventRecord")
            }
            events.append(event)
        }
        try r.expectEnd("System.Events")
        return events
    }

    /// Encodes event records back into a `System.Events` storage value.
    public func encodeEvents(_ events: [DecodedEvent]) throws(ScaleEncodingError) -> [UInt8] {
        guard let eventsTypeId else { throw ScaleEncodingError("the metadata has no System.Events storage", typeName: "System.Events") }
        return try registry.encode(.sequence(events.map(\.record)), as: eventsTypeId)
    }

    private static func eventRecord(_ record: ScaleValue, index: Int) -> DecodedEvent? {
        guard let phaseValue = record["phase"], let eventValue = record["event"],
              case .variant(let palletVariant) = eventValue, palletVariant.fields.count == 1,
              case .variant(let event) = palletVariant.fields[0].value else { return nil }
        let phase: EventPhase
        switch phaseValue.asVariant?.name {
        case "ApplyExtrinsic":
            guard let i = phaseValue[0]?.asUInt64, i <= UInt64(UInt32.max) else { return nil }
            phase = .applyExtrinsic(UInt32(i))
        case "Finalization": phase = .finalization
        case "Initialization": phase = .initialization
        default: phase = .other(phaseValue)
        }
        var topics: [[UInt8]] = []
        if let items = record["topics"]?.asSequence {
            for item in items {
                guard let bytes = item.asBytes else { return nil }
                topics.append(bytes)
            }
        }
        return DecodedEvent(index: index, phase: phase, phaseValue: phaseValue, palletIndex: palletVariant.index, pallet: palletVariant.name,
                            variantIndex: event.index, name: event.name, fields: event.fields, topics: topics, record: record)
    }
}
