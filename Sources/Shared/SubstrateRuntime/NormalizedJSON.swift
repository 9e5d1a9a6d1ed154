import SubstratePrimitives
/// The normalized JSON form of decoded chain data (rules in `conformance/README.md`): integers above 2^53 become
/// decimal strings, byte strings 0x-hex, single-field wrappers disappear, enums become `"Variant"` or `{"Variant": value}`.
public enum NormalizedJSON {
    static let maxExactInteger: UInt128 = 1 << 53

    public static func value(_ value: ScaleValue) -> JSONValue {
        switch value {
        case .bool(let b): return .bool(b)
        case .char(let c): return .string(String(Character(c)))
        case .string(let s): return .string(s)
        case .unsigned(let v): return v <= maxExactInteger ? .integer(Int64(v)) : .string(String(v))
        case .signed(let v): return v.magnitude <= maxExactInteger ? .integer(Int64(v)) : .string(String(v))
        case .unsigned256(let v): return v.high == 0 && v.low <= maxExactInteger ? .integer(Int64(v.low)) : .string(v.description)
        case .signed256(let v):
            let negative = v.high >> 127 == 1
            let magnitude = negative ? v.twosComplementNegated : v
            if magnitude.high == 0, magnitude.low <= maxExactInteger {
                return .integer(negative ? -Int64(magnitude.low) : Int64(magnitude.low))
            }
            return .string((negative ? "-" : "") + magnitude.description)
        case .bytes(let b): return .string(Hex.encode(b))
        case .sequence(let items): return .array(items.map(Self.value))
        case .composite(let c): return fields(c.fields)
        case .variant(let v):
            if v.fields.isEmpty { return .string(v.name) }
            return .object([(v.name, fields(v.fields))])
        case .bits(let bits): return .string(String(bits.map { $0 ? "1" : "0" }))
        }
    }

    /// Composite rule: no fields → null, one unnamed → the inner value, several unnamed → array, named → object.
    public static func fields(_ fields: [ScaleField]) -> JSONValue {
        if fields.isEmpty { return .null }
        if fields[0].name == nil {
            if fields.count == 1 { return value(fields[0].value) }
            return .array(fields.map { value($0.value) })
        }
        return .object(fields.map { ($0.name ?? "", value($0.value)) })
    }

    /// `{index, pallet, call, signed, signer, args, extrinsic_hash}` plus, when signed, `address`, `signature`, `signed_extensions`.
    public static func extrinsic(_ x: DecodedExtrinsic, index: Int) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("index", .integer(Int64(index))),
            ("pallet", .string(x.call.pallet)),
            ("call", .string(x.call.name)),
            ("signed", .bool(x.isSigned)),
            ("signer", x.signer.map { .string(Hex.encode($0)) } ?? .null),
            ("args", .object(x.call.arguments.enumerated().map { ($1.name ?? String($0), value($1.value)) })),
            ("extrinsic_hash", .string(Hex.encode(x.hash))),
        ]
        if let signature = x.signature {
            members.append(("address", value(signature.address)))
            members.append(("signature", value(signature.signature)))
            members.append(("signed_extensions", .object(signature.extensions.map { ($0.name ?? "", value($0.value)) })))
        }
        return .object(members)
    }

    /// `{index, phase, pallet, event, fields, topics}`; fields are an object when named, an array when unnamed.
    public static func event(_ e: DecodedEvent) -> JSONValue {
        let fieldsJSON: JSONValue
        if e.fields.isEmpty {
            fieldsJSON = .null
        } else if e.fields[0].name == nil {
            fieldsJSON = .array(e.fields.map { value($0.value) })
        } else {
            fieldsJSON = .object(e.fields.map { ($0.name ?? "", value($0.value)) })
        }
        return .object([
            ("index", .integer(Int64(e.index))),
            ("phase", value(e.phaseValue)),
            ("pallet", .string(e.pallet)),
            ("event", .string(e.name)),
            ("fields", fieldsJSON),
            ("topics", .array(e.topics.map { .string(Hex.encode($0)) })),
        ])
    }

    /// The header fields as in the conformance data's `header` object, plus `hash`.
    public static func header(_ h: BlockHeader) -> JSONValue {
        .object([
            ("parentHash", .string(Hex.encode(h.parentHash))),
            ("number", .integer(Int64(h.number))),
            ("stateRoot", .string(Hex.encode(h.stateRoot))),
            ("extrinsicsRoot", .string(Hex.encode(h.extrinsicsRoot))),
            ("digest_logs", .array(h.digest.map { .string(Hex.encode($0.encoded)) })),
            ("digest_logs_decoded", .array(h.digest.map(digestItem))),
            ("hash", .string(Hex.encode(h.hash))),
        ])
    }

    public static func digestItem(_ item: DigestItem) -> JSONValue {
        var members: [(String, JSONValue)] = [("type", .string(item.typeName))]
        if let engine = item.engine {
            members.append(("engine", .string(Hex.encode(engine))))
            let printable = engine.allSatisfy { $0 >= 0x20 && $0 < 0x7f }
            members.append(("engine_ascii", printable ? .string(String(decoding: engine, as: UTF8.self)) : .null))
        }
        if let data = item.data { members.append(("data", .string(Hex.encode(data)))) }
        return .object(members)
    }
}
