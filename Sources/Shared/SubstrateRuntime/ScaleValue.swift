import SubstratePrimitives
/// A named (or unnamed) field of a decoded composite or variant.
public struct ScaleField: Sendable, Hashable {
    public let name: String?
    public var value: ScaleValue

    public init(name: String?, value: ScaleValue) {
        self.name = name
        self.value = value
    }
}

/// A decoded composite (struct or tuple struct) with the registry type id it was decoded as.
public struct ScaleComposite: Sendable, Hashable {
    public let typeId: Int
    public var fields: [ScaleField]

    public init(typeId: Int, fields: [ScaleField]) {
        self.typeId = typeId
        self.fields = fields
    }
}

/// A decoded enum value: the variant's index and name, its fields, and the enum's registry type id.
public struct ScaleVariant: Sendable, Hashable {
    public let typeId: Int
    public let index: UInt8
    public let name: String
    public var fields: [ScaleField]

    public init(typeId: Int, index: UInt8, name: String, fields: [ScaleField]) {
        self.typeId = typeId
        self.index = index
        self.name = name
        self.fields = fields
    }
}

/// A value decoded from SCALE by walking the runtime metadata's type registry. Integers keep their full
/// width; byte strings (`Vec<u8>`, `[u8; N]`) stay bytes. Composites and variants remember their type id so
/// the type path is available from `RuntimeMetadata.registry`.
public enum ScaleValue: Sendable, Hashable {
    case bool(Bool)
    case char(Unicode.Scalar)
    case string(String)
    /// Any unsigned integer up to 128 bits, including `Compact<T>`.
    case unsigned(UInt128)
    /// Any signed integer up to 128 bits.
    case signed(Int128)
    /// `u256` (or a compact wider than 128 bits).
    case unsigned256(UInt256)
    /// `i256` in two's complement.
    case signed256(UInt256)
    case bytes([UInt8])
    /// `Vec<T>`, `[T; N]` and tuples.
    case sequence([ScaleValue])
    case composite(ScaleComposite)
    case variant(ScaleVariant)
    case bits([Bool])

    // MARK: Convenience accessors for alert rules.

    /// The named field of a composite or variant (looking through single-field wrappers).
    public subscript(_ name: String) -> ScaleValue? {
        switch self {
        case .composite(let c):
            if let f = c.fields.first(where: { $0.name == name }) { return f.value }
            if c.fields.count == 1, c.fields[0].name == nil { return c.fields[0].value[name] }
            return nil
        case .variant(let v):
            if let f = v.fields.first(where: { $0.name == name }) { return f.value }
            if v.fields.count == 1, v.fields[0].name == nil { return v.fields[0].value[name] }
            return nil
        default:
            return nil
        }
    }

    /// The n-th element of a sequence, or the n-th field of a composite/variant.
    public subscript(_ position: Int) -> ScaleValue? {
        switch self {
        case .sequence(let items): return position >= 0 && position < items.count ? items[position] : nil
        case .composite(let c): return position >= 0 && position < c.fields.count ? c.fields[position].value : nil
        case .variant(let v): return position >= 0 && position < v.fields.count ? v.fields[position].value : nil
        default: return nil
        }
    }

    /// Strips composites that hold exactly one field (`AccountId32`, `H256`, `Slot`, `Perbill`, `Compact` wrappers).
    public var unwrapped: ScaleValue {
        var current = self
        while case .composite(let c) = current, c.fields.count == 1 { current = c.fields[0].value }
        return current
    }

    /// The integer value when it fits in 128 bits (looking through single-field wrappers).
    public var asUInt128: UInt128? {
        switch unwrapped {
        case .unsigned(let v): return v
        case .signed(let v): return v >= 0 ? UInt128(v) : nil
        case .unsigned256(let v): return v.high == 0 ? v.low : nil
        default: return nil
        }
    }

    /// The integer value when it fits in 64 bits.
    public var asUInt64: UInt64? {
        guard let v = asUInt128, v <= UInt128(UInt64.max) else { return nil }
        return UInt64(v)
    }

    public var asInt: Int? {
        guard let v = asUInt64, v <= UInt64(Int.max) else { return nil }
        return Int(v)
    }

    public var asBool: Bool? {
        if case .bool(let b) = unwrapped { return b }
        return nil
    }

    public var asString: String? {
        if case .string(let s) = unwrapped { return s }
        return nil
    }

    /// Byte strings, also `[u8; N]` wrapped in composites such as `AccountId32` or `H256`.
    public var asBytes: [UInt8]? {
        if case .bytes(let b) = unwrapped { return b }
        return nil
    }

    /// A 32-byte account id from a decoded value, by the rule of spec 1.3: unwrap composites with one element and
    /// variants (taking their fields); then bytes, a composite/sequence of integers that fit in u8, a 256-bit bit
    /// sequence or a u256/i256 give the bytes; 33 bytes lose their first (tag) byte; the result must be 32 bytes.
    /// Covers `AccountId32`, `[u8; 32]`, `MultiAddress::Id(..)`, `FarmerVote.public_key`.
    public var accountId32: [UInt8]? {
        var current = self
        var hops = 0
        while hops < 64 {
            hops += 1
            switch current {
            case .composite(let c) where c.fields.count == 1: current = c.fields[0].value
            case .variant(let v) where v.fields.count == 1: current = v.fields[0].value
            case .variant(let v) where v.fields.count > 1: current = .sequence(v.fields.map(\.value))
            case .sequence(let items) where items.count == 1: current = items[0]
            default: hops = Int.max
            }
            if hops == Int.max { break }
        }
        var bytes: [UInt8]
        switch current {
        case .bytes(let b): bytes = b
        case .sequence(let items): bytes = []
            for item in items {
                guard case .unsigned(let v) = item, v <= 0xff else { return nil }
                bytes.append(UInt8(v))
            }
        case .composite(let c): bytes = []
            for field in c.fields {
                guard case .unsigned(let v) = field.value, v <= 0xff else { return nil }
                bytes.append(UInt8(v))
            }
        case .bits(let bits) where bits.count == 256:
            bytes = [UInt8](repeating: 0, count: 32)
            for (i, bit) in bits.enumerated() where bit { bytes[i >> 3] |= 1 << UInt8(i & 7) }
        case .unsigned256(let v), .signed256(let v): bytes = v.littleEndianBytes
        default: return nil
        }
        if bytes.count == 33 { bytes.removeFirst() }
        return bytes.count == 32 ? bytes : nil
    }

    /// The variant name of an enum value (looking through single-field wrappers).
    public var variantName: String? {
        if case .variant(let v) = unwrapped { return v.name }
        return nil
    }

    /// The variant, if this is an enum value.
    public var asVariant: ScaleVariant? {
        if case .variant(let v) = unwrapped { return v }
        return nil
    }

    /// The elements of a sequence.
    public var asSequence: [ScaleValue]? {
        if case .sequence(let items) = unwrapped { return items }
        return nil
    }
}
