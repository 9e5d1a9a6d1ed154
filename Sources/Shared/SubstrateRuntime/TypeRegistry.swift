import SubstratePrimitives
/// A SCALE primitive as named in the portable type registry.
public enum ScalePrimitive: UInt8, Sendable, CaseIterable {
    case bool = 0, char, str, u8, u16, u32, u64, u128, u256, i8, i16, i32, i64, i128, i256

    /// Byte width of fixed-size integers; nil for bool/char/str.
    public var integerWidth: Int? {
        switch self {
        case .u8, .i8: 1
        case .u16, .i16: 2
        case .u32, .i32: 4
        case .u64, .i64: 8
        case .u128, .i128: 16
        case .u256, .i256: 32
        case .bool, .char, .str: nil
        }
    }

    public var isSigned: Bool {
        switch self {
        case .i8, .i16, .i32, .i64, .i128, .i256: true
        default: false
        }
    }

    public var name: String { String(describing: self) }
}

/// A field of a composite type or enum variant.
public struct TypeField: Sendable {
    public let name: String?
    public let typeId: Int
    public let typeName: String?
}

/// One variant of an enum type.
public struct TypeVariant: Sendable {
    public let name: String
    public let index: UInt8
    public let fields: [TypeField]
}

/// The bit order of a `BitVec`, read from the order type's path (`bitvec::order::Lsb0` / `Msb0`).
public enum BitOrder: Sendable { case lsb0, msb0 }

/// The shape of a portable type.
public enum TypeShape: Sendable {
    case composite([TypeField])
    case variant(variants: [TypeVariant], byIndex: [Int16])
    case sequence(element: Int)
    case array(length: Int, element: Int)
    case tuple([Int])
    case primitive(ScalePrimitive)
    case compact(Int)
    case bitSequence(storeBits: Int, order: BitOrder)
}

/// One type of the portable registry: its path (e.g. `sp_core::crypto::AccountId32`), generic parameters and shape.
public final class PortableType: Sendable {
    public let id: Int
    public let path: [String]
    public let parameters: [(name: String, typeId: Int?)]
    public let shape: TypeShape
    /// `Vec<u8>` or `[u8; N]`: decoded as one byte string rather than element by element.
    public let isByteSequence: Bool
    /// Human-readable type name for error messages (`sp_runtime::generic::era::Era`, `Vec<u8>`, `u32`).
    public let displayName: String

    init(id: Int, path: [String], parameters: [(name: String, typeId: Int?)], shape: TypeShape, isByteSequence: Bool, displayName: String) {
        self.id = id
        self.path = path
        self.parameters = parameters
        self.shape = shape
        self.isByteSequence = isByteSequence
        self.displayName = displayName
    }

    /// The variant with the given index, if this is an enum that defines it.
    public func variant(at index: UInt8) -> TypeVariant? {
        guard case .variant(let variants, let byIndex) = shape else { return nil }
        let position = Int(byIndex[Int(index)])
        return position >= 0 ? variants[position] : nil
    }

    /// The variant with the given name, if this is an enum that defines it.
    public func variant(named name: String) -> TypeVariant? {
        guard case .variant(let variants, _) = shape else { return nil }
        return variants.first { $0.name == name }
    }
}

/// The runtime's portable type registry; lookups are array indexing by type id.
public struct TypeRegistry: Sendable {
    public let types: [PortableType]
    /// The fewest bytes any value of each type can occupy; bounds declared lengths before allocating.
    let minimumSizes: [Int]
    /// Flat tables for the decoder's hot path.
    let plan: DecodePlan

    /// Builds the registry; type ids must be dense (0..<n in some order), as every metadata producer emits them.
    init(raw: [(id: Int, path: [String], parameters: [(name: String, typeId: Int?)], shape: TypeShape)]) throws(MetadataError) {
        var slots = [Int?](repeating: nil, count: raw.count)
        for (position, entry) in raw.enumerated() {
            guard entry.id >= 0, entry.id < raw.count, slots[entry.id] == nil else {
                throw MetadataError.invalidTypeRegistry("type ids are not dense: id \(entry.id) among \(raw.count) types")
            }
            slots[entry.id] = position
        }
        // Validate every referenced id so decoding never indexes out of range.
        func check(_ id: Int, in owner: Int) throws(MetadataError) {
            if id < 0 || id >= raw.count {
                throw MetadataError.invalidTypeRegistry("type \(owner) refers to missing type id \(id)")
            }
        }
        for entry in raw {
            switch entry.shape {
            case .composite(let fields): for f in fields { try check(f.typeId, in: entry.id) }
            case .variant(let variants, _): for v in variants { for f in v.fields { try check(f.typeId, in: entry.id) } }
            case .sequence(let e), .array(_, let e), .compact(let e): try check(e, in: entry.id)
            case .tuple(let ids): for e in ids { try check(e, in: entry.id) }
            case .primitive, .bitSequence: break
            }
        }
        func primitive(_ id: Int) -> ScalePrimitive? {
            if case .primitive(let p) = raw[slots[id]!].shape { return p }
            return nil
        }
        var names = [String](repeating: "", count: raw.count)
        for entry in raw {
            names[entry.id] = Self.baseName(entry.path, shape: entry.shape, primitive: primitive)
        }
        var built: [PortableType] = []
        built.reserveCapacity(raw.count)
        for id in 0 ..< raw.count {
            let entry = raw[slots[id]!]
            var isBytes = false
            switch entry.shape {
            case .sequence(let e), .array(_, let e): isBytes = primitive(e) == .u8
            default: break
            }
            var display = names[id]
            switch entry.shape {
            case .sequence(let e): display = "Vec<\(names[e])>"
            case .array(let n, let e): display = "[\(names[e]); \(n)]"
            case .compact(let e): display = "Compact<\(names[e])>"
            case .tuple(let ids): display = "(" + ids.map { names[$0] }.joined(separator: ", ") + ")"
            default: break
            }
            built.append(PortableType(id: id, path: entry.path, parameters: entry.parameters, shape: entry.shape, isByteSequence: isBytes, displayName: display))
        }
        types = built
        var sizes = [Int](repeating: -1, count: built.count)
        func minimumSize(_ id: Int, _ depth: Int) -> Int {
            if sizes[id] >= 0 { return sizes[id] }
            // A type can only contain itself through a sequence or enum, which stop the recursion below.
            if depth > 64 { return 0 }
            let size: Int
            switch built[id].shape {
            case .primitive(let p): size = p == .char ? 4 : (p.integerWidth ?? 1)
            case .composite(let fields): size = fields.reduce(0) { min($0 + minimumSize($1.typeId, depth + 1), 1 << 20) }
            case .tuple(let ids): size = ids.reduce(0) { min($0 + minimumSize($1, depth + 1), 1 << 20) }
            case .array(let n, let e): size = min(n * min(minimumSize(e, depth + 1), 1 << 20), 1 << 20)
            case .variant, .sequence, .compact, .bitSequence: size = 1
            }
            sizes[id] = size
            return size
        }
        for id in 0 ..< built.count { _ = minimumSize(id, 0) }
        minimumSizes = sizes
        plan = DecodePlan(built)
    }

    private static func baseName(_ path: [String], shape: TypeShape, primitive: (Int) -> ScalePrimitive?) -> String {
        if !path.isEmpty { return path.joined(separator: "::") }
        switch shape {
        case .primitive(let p): return p.name
        case .bitSequence: return "BitVec"
        case .sequence: return "Vec"
        case .array: return "array"
        case .tuple: return "tuple"
        case .compact: return "Compact"
        case .composite: return "composite"
        case .variant: return "enum"
        }
    }

    public var count: Int { types.count }

    /// The type with this id, or nil if the registry has no such type.
    public subscript(id: Int) -> PortableType? {
        id >= 0 && id < types.count ? types[id] : nil
    }

    /// Follows single-field composites (`AccountId32([u8; 32])`, `Perbill(u32)`) down to the inner type id.
    public func unwrapSingleField(_ id: Int) -> Int {
        var current = id
        var hops = 0
        while hops < 32, let t = self[current], case .composite(let fields) = t.shape, fields.count == 1 {
            current = fields[0].typeId
            hops += 1
        }
        return current
    }
}
