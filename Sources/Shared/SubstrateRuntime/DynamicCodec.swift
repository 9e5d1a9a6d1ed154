import SubstratePrimitives
/// An encoding failure: the value does not fit the type it is encoded as (wrong shape, out of range, unknown variant).
public struct ScaleEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let typeName: String

    public init(_ message: String, typeName: String) {
        self.message = message
        self.typeName = typeName
    }

    public var description: String { "SCALE error encoding \(typeName): \(message)" }
}

extension TypeRegistry {
    /// Nesting limit: deep enough for any real runtime type, low enough that hostile input cannot exhaust the stack.
    public static let maxDepth = 128

    /// Decodes one value of type `typeId` from the reader.
    public func decode(_ typeId: Int, from reader: inout ScaleReader) throws(ScaleError) -> ScaleValue {
        try decode(typeId, from: &reader, depth: 0)
    }

    /// Decodes a complete byte string as one value of type `typeId`; trailing bytes are an error.
    public func decode(_ typeId: Int, from bytes: [UInt8]) throws(ScaleError) -> ScaleValue {
        var reader = ScaleReader(bytes)
        let value = try decode(typeId, from: &reader, depth: 0)
        try reader.expectEnd(self[typeId]?.displayName ?? "type \(typeId)")
        return value
    }

    func decode(_ typeId: Int, from reader: inout ScaleReader, depth: Int) throws(ScaleError) -> ScaleValue {
        guard typeId >= 0, typeId < types.count else {
            throw ScaleError(.unknownTypeId(typeId), offset: reader.offset, typeName: "type \(typeId)")
        }
        if depth > Self.maxDepth {
            throw ScaleError(.tooDeep(Self.maxDepth), offset: reader.offset, typeName: types[typeId].displayName)
        }
        // Reads below pass an empty type name and the error is renamed on the way out, which keeps the success
        // path free of string reference counting; the plan's flat tables keep it free of other retains too.
        do throws(ScaleError) {
            let node = plan.nodes[typeId]
            switch node.kind {
            case .primitive:
                return try decodePrimitive(ScalePrimitive(rawValue: node.primitive) ?? .u8, from: &reader)
            case .wrapper:
                // Wrappers with one unnamed field (AccountId32, H256, Perbill, BoundedVec, ...) are transparent: the
                // normalized form drops them anyway, and skipping the field array halves allocations on real blocks.
                return try decode(Int(node.a), from: &reader, depth: depth + 1)
            case .composite:
                let fields = try decodeFields(start: Int(node.a), count: Int(node.b), from: &reader, depth: depth)
                return .composite(ScaleComposite(typeId: typeId, fields: fields))
            case .variant:
                let start = reader.offset
                guard start < reader.bytes.count else {
                    throw ScaleError(.truncated(needed: 1, available: 0), offset: start, typeName: "")
                }
                let index = reader.bytes[start]
                reader.offset = start + 1
                let slotIndex = Int(plan.variantTable[Int(node.a) + Int(index)])
                guard slotIndex >= 0 else {
                    throw ScaleError(.unknownVariant(Int(index)), offset: start, typeName: "")
                }
                let slot = plan.variantSlots[slotIndex]
                let fields = try decodeFields(start: Int(slot.fieldStart), count: Int(slot.fieldCount), from: &reader, depth: depth)
                return .variant(ScaleVariant(typeId: typeId, index: index, name: plan.variantNames[Int(slot.nameIndex)], fields: fields))
            case .bytesSequence:
                return .bytes(try reader.readByteVector(""))
            case .sequence:
                let element = Int(node.a)
                let count = try reader.readLength("", minimumElementSize: max(minimumSizes[element], 1))
                var items: [ScaleValue] = []
                items.reserveCapacity(count)
                for _ in 0 ..< count { items.append(try decode(element, from: &reader, depth: depth + 1)) }
                return .sequence(items)
            case .bytesArray:
                return .bytes(try reader.readBytes(Int(node.b), ""))
            case .array:
                let element = Int(node.a)
                let length = Int(node.b)
                // Metadata is outside input too: an absurd array length is refused before looping over it.
                if length > reader.maxLength {
                    throw ScaleError(.lengthTooLarge(length), offset: reader.offset, typeName: "")
                }
                let needed = length.multipliedReportingOverflow(by: minimumSizes[element])
                if needed.overflow || needed.partialValue > reader.remaining {
                    throw ScaleError(.truncated(needed: needed.overflow ? Int.max : needed.partialValue, available: reader.remaining), offset: reader.offset, typeName: "")
                }
                var items: [ScaleValue] = []
                items.reserveCapacity(length)
                for _ in 0 ..< length { items.append(try decode(element, from: &reader, depth: depth + 1)) }
                return .sequence(items)
            case .tuple:
                // `()` is a unit value, not an empty list: represent it like a field-less composite.
                if node.b == 0 { return .composite(ScaleComposite(typeId: typeId, fields: [])) }
                var items: [ScaleValue] = []
                items.reserveCapacity(Int(node.b))
                for slot in Int(node.a) ..< Int(node.a) + Int(node.b) {
                    items.append(try decode(Int(plan.fieldTypes[slot]), from: &reader, depth: depth + 1))
                }
                return .sequence(items)
            case .compact:
                return try decodeCompact(Int(node.a), typeName: "", from: &reader)
            case .bits:
                return try decodeBits(storeBits: Int(node.a), order: node.b == 1 ? .msb0 : .lsb0, typeName: "", from: &reader)
            }
        } catch {
            // Errors from nested types already carry their own name; only unnamed (local) ones get this type's.
            if error.typeName.isEmpty {
                throw ScaleError(error.reason, offset: error.offset, typeName: types[typeId].displayName)
            }
            throw error
        }
    }

    @inline(__always)
    private func decodeFields(start: Int, count: Int, from reader: inout ScaleReader, depth: Int) throws(ScaleError) -> [ScaleField] {
        var decoded: [ScaleField] = []
        decoded.reserveCapacity(count)
        for slot in start ..< start + count {
            decoded.append(ScaleField(name: plan.fieldNames[slot], value: try decode(Int(plan.fieldTypes[slot]), from: &reader, depth: depth + 1)))
        }
        return decoded
    }

    @inline(__always)
    private func decodePrimitive(_ primitive: ScalePrimitive, from reader: inout ScaleReader) throws(ScaleError) -> ScaleValue {
        switch primitive {
        case .bool: return .bool(try reader.readBool())
        case .str: return .string(try reader.readString())
        case .char:
            let start = reader.offset
            let raw = try reader.readU32("char")
            guard let scalar = Unicode.Scalar(raw) else {
                throw ScaleError(.invalidValue("\(raw) is not a Unicode scalar"), offset: start, typeName: "char")
            }
            return .char(scalar)
        case .u8: return .unsigned(UInt128(try reader.readU8()))
        case .u16: return .unsigned(UInt128(try reader.readLE(width: 2, "u16")))
        case .u32: return .unsigned(UInt128(try reader.readLE(width: 4, "u32")))
        case .u64: return .unsigned(UInt128(try reader.readLE(width: 8, "u64")))
        case .u128: return .unsigned(try reader.readLE128(width: 16, "u128"))
        case .u256: return .unsigned256(try reader.readU256())
        case .i8: return .signed(Int128(Int8(truncatingIfNeeded: try reader.readU8("i8"))))
        case .i16: return .signed(Int128(Int16(truncatingIfNeeded: try reader.readLE(width: 2, "i16"))))
        case .i32: return .signed(Int128(Int32(truncatingIfNeeded: try reader.readLE(width: 4, "i32"))))
        case .i64: return .signed(Int128(Int64(bitPattern: try reader.readLE(width: 8, "i64"))))
        case .i128: return .signed(Int128(bitPattern: try reader.readLE128(width: 16, "i128")))
        case .i256: return .signed256(try reader.readU256("i256"))
        }
    }

    private func decodeCompact(_ inner: Int, typeName: String, from reader: inout ScaleReader) throws(ScaleError) -> ScaleValue {
        let target = unwrapSingleField(inner)
        let start = reader.offset
        guard case .primitive(let primitive) = types[target].shape, let width = primitive.integerWidth, !primitive.isSigned else {
            // Compact<()> exists in some runtimes: a compact zero-sized value is still a compact integer on the wire.
            if case .composite(let fields) = types[target].shape, fields.isEmpty {
                let value = try reader.readCompactU256(typeName)
                if !value.isZero { throw ScaleError(.invalidValue("Compact<()> must be 0"), offset: start, typeName: typeName) }
                return .unsigned(0)
            }
            throw ScaleError(.invalidValue("compact of non-integer type \(types[target].displayName)"), offset: start, typeName: typeName)
        }
        if width <= 8 {
            let value = try reader.readCompactU64(typeName)
            if width < 8, value >> UInt64(width * 8) != 0 {
                throw ScaleError(.invalidValue("compact value \(value) does not fit in \(primitive.name)"), offset: start, typeName: typeName)
            }
            return .unsigned(UInt128(value))
        }
        let value = try reader.readCompactU256(typeName)
        if width == 16 {
            if value.high != 0 {
                throw ScaleError(.invalidValue("compact value does not fit in u128"), offset: start, typeName: typeName)
            }
            return .unsigned(value.low)
        }
        return .unsigned256(value)
    }

    private func decodeBits(storeBits: Int, order: BitOrder, typeName: String, from reader: inout ScaleReader) throws(ScaleError) -> ScaleValue {
        let start = reader.offset
        let bitCount = try reader.readLength(typeName)
        let words = (bitCount + storeBits - 1) / storeBits
        let byteCount = words * (storeBits / 8)
        if byteCount > reader.remaining {
            throw ScaleError(.truncated(needed: byteCount, available: reader.remaining), offset: start, typeName: typeName)
        }
        let storeBytes = storeBits / 8
        let base = reader.offset
        reader.offset += byteCount
        // Bits are read straight from the input: word w's byte k holds bits 8k..8k+7 of that word (little-endian).
        let bits = [Bool](unsafeUninitializedCapacity: bitCount) { buffer, initialized in
            reader.bytes.withUnsafeBufferPointer { input in
                if order == .lsb0 {
                    // With little-endian words, Lsb0 bit i is always bit i%8 of byte i/8, whatever the store size.
                    for i in 0 ..< bitCount { buffer[i] = (input[base + i >> 3] >> UInt8(i & 7)) & 1 == 1 }
                    return
                }
                var i = 0
                var word = 0
                while i < bitCount {
                    let wordBase = base + word * storeBytes
                    var bit = 0
                    while bit < storeBits, i < bitCount {
                        let position = order == .lsb0 ? bit : storeBits - 1 - bit
                        buffer[i] = (input[wordBase + position >> 3] >> UInt8(position & 7)) & 1 == 1
                        bit += 1
                        i += 1
                    }
                    word += 1
                }
            }
            initialized = bitCount
        }
        return .bits(bits)
    }

    // MARK: Encoding

    /// Encodes `value` as type `typeId`.
    public func encode(_ value: ScaleValue, as typeId: Int) throws(ScaleEncodingError) -> [UInt8] {
        var writer = ScaleWriter()
        try encode(value, as: typeId, into: &writer)
        return writer.bytes
    }

    /// Appends the encoding of `value` as type `typeId`.
    public func encode(_ value: ScaleValue, as typeId: Int, into writer: inout ScaleWriter, depth: Int = 0) throws(ScaleEncodingError) {
        guard let type = self[typeId] else { throw ScaleEncodingError("unknown type id", typeName: "type \(typeId)") }
        if depth > Self.maxDepth { throw ScaleEncodingError("nesting too deep", typeName: type.displayName) }
        func mismatch() -> ScaleEncodingError { ScaleEncodingError("value \(value.kindName) does not fit", typeName: type.displayName) }
        switch type.shape {
        case .primitive(let primitive):
            try encodePrimitive(value, primitive, into: &writer, typeName: type.displayName)
        case .composite(let fields):
            if fields.count == 1, fields[0].name == nil {
                // Transparent wrapper; also accept an explicit one-field composite built by hand.
                if case .composite(let c) = value, c.typeId == typeId, c.fields.count == 1 {
                    try encode(c.fields[0].value, as: fields[0].typeId, into: &writer, depth: depth + 1)
                } else {
                    try encode(value, as: fields[0].typeId, into: &writer, depth: depth + 1)
                }
                return
            }
            guard case .composite(let c) = value, c.fields.count == fields.count else { throw mismatch() }
            for (field, item) in zip(fields, c.fields) { try encode(item.value, as: field.typeId, into: &writer, depth: depth + 1) }
        case .variant:
            guard case .variant(let v) = value, let variant = type.variant(at: v.index), variant.fields.count == v.fields.count else { throw mismatch() }
            writer.writeU8(v.index)
            for (field, item) in zip(variant.fields, v.fields) { try encode(item.value, as: field.typeId, into: &writer, depth: depth + 1) }
        case .sequence(let element):
            if type.isByteSequence, case .bytes(let b) = value {
                writer.writeByteVector(b)
                return
            }
            guard case .sequence(let items) = value else { throw mismatch() }
            writer.writeCompact(UInt64(items.count))
            for item in items { try encode(item, as: element, into: &writer, depth: depth + 1) }
        case .array(let length, let element):
            if type.isByteSequence, case .bytes(let b) = value {
                guard b.count == length else { throw mismatch() }
                writer.writeBytes(b)
                return
            }
            guard case .sequence(let items) = value, items.count == length else { throw mismatch() }
            for item in items { try encode(item, as: element, into: &writer, depth: depth + 1) }
        case .tuple(let elements):
            if elements.isEmpty, case .composite(let c) = value, c.fields.isEmpty { return }
            guard case .sequence(let items) = value, items.count == elements.count else { throw mismatch() }
            for (element, item) in zip(elements, items) { try encode(item, as: element, into: &writer, depth: depth + 1) }
        case .compact:
            switch value {
            case .unsigned(let v): writer.writeCompact(v)
            case .unsigned256(let v): writer.writeCompact(v)
            default: throw mismatch()
            }
        case .bitSequence(let storeBits, let order):
            guard case .bits(let bits) = value else { throw mismatch() }
            writer.writeCompact(UInt64(bits.count))
            var position = 0
            while position < bits.count {
                var word: UInt64 = 0
                for bit in 0 ..< storeBits where position + bit < bits.count && bits[position + bit] {
                    word |= 1 << UInt64(order == .lsb0 ? bit : storeBits - 1 - bit)
                }
                writer.writeLE(word, width: storeBits / 8)
                position += storeBits
            }
        }
    }

    private func encodePrimitive(_ value: ScaleValue, _ primitive: ScalePrimitive, into writer: inout ScaleWriter, typeName: String) throws(ScaleEncodingError) {
        func mismatch() -> ScaleEncodingError { ScaleEncodingError("value \(value.kindName) does not fit", typeName: typeName) }
        switch (primitive, value) {
        case (.bool, .bool(let b)): writer.writeBool(b)
        case (.str, .string(let s)): writer.writeString(s)
        case (.char, .char(let c)): writer.writeU32(c.value)
        case (.u256, .unsigned256(let v)): writer.writeU256(v)
        case (.u256, .unsigned(let v)): writer.writeU256(UInt256(low: v))
        case (.i256, .signed256(let v)): writer.writeU256(v)
        case (_, .unsigned(let v)):
            guard let width = primitive.integerWidth, !primitive.isSigned, width <= 16 else { throw mismatch() }
            if width < 16, v >> (width * 8) != 0 { throw mismatch() }
            writer.writeLE128(v, width: width)
        case (_, .signed(let v)):
            guard let width = primitive.integerWidth, primitive.isSigned, width <= 16 else { throw mismatch() }
            if width < 16 {
                let limit = Int128(1) << (width * 8 - 1)
                if v < -limit || v >= limit { throw mismatch() }
            }
            writer.writeLE128(UInt128(bitPattern: v), width: width)
        default:
            throw mismatch()
        }
    }
}

extension ScaleValue {
    /// A short name of the value's kind for error messages.
    public var kindName: String {
        switch self {
        case .bool: "bool"
        case .char: "char"
        case .string: "string"
        case .unsigned: "unsigned integer"
        case .signed: "signed integer"
        case .unsigned256: "u256"
        case .signed256: "i256"
        case .bytes: "bytes"
        case .sequence: "sequence"
        case .composite: "composite"
        case .variant(let v): "variant \(v.name)"
        case .bits: "bit sequence"
        }
    }
}
