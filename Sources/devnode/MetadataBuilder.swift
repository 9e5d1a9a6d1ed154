import SubstrateRuntime
import SubstratePrimitives
import WorkerRuntime

/// A type definition in the portable registry, as `scale-info` writes it.
indirect enum TypeDefinition {
    case composite([FieldDefinition])
    case variant([VariantDefinition])
    case sequence(Int)
    case array(length: UInt32, element: Int)
    case tuple([Int])
    case primitive(ScalePrimitive)
    case compact(Int)
}

/// One field of a composite or variant.
struct FieldDefinition {
    var name: String?
    var type: Int
    var typeName: String?

    init(_ name: String?, _ type: Int, _ typeName: String? = nil) {
        self.name = name
        self.type = type
        self.typeName = typeName
    }
}

/// One variant of an enum type.
struct VariantDefinition {
    var name: String
    var fields: [FieldDefinition]
    var index: UInt8

    init(_ name: String, _ index: UInt8, _ fields: [FieldDefinition] = []) {
        self.name = name
        self.index = index
        self.fields = fields
    }
}

/// A storage entry of a pallet (only what the devnode needs: plain values).
struct StorageEntryDefinition {
    var name: String
    var valueType: Int
    var defaultValue: [UInt8]
}

/// A pallet constant with its SCALE-encoded value.
struct ConstantDefinition {
    var name: String
    var type: Int
    var value: [UInt8]
}

/// One pallet of the described runtime.
struct PalletDefinition {
    var name: String
    var index: UInt8
    var storage: [StorageEntryDefinition] = []
    var callType: Int?
    var eventType: Int?
    var constants: [ConstantDefinition] = []
    var errorType: Int?
}

/// Builds a portable type registry and encodes a whole runtime description as V14 metadata bytes
/// (`meta` magic, version 14, registry, pallets, extrinsic, runtime type), with our SCALE writer.
struct MetadataBuilder {
    private(set) var types: [(path: [String], parameters: [(String, Int?)], definition: TypeDefinition?)] = []
    private var primitives: [ScalePrimitive: Int] = [:]

    /// Adds a type and returns its id.
    mutating func add(_ path: [String], parameters: [(String, Int?)] = [], _ definition: TypeDefinition) -> Int {
        types.append((path, parameters, definition))
        return types.count - 1
    }

    /// Adds an anonymous type (no path) and returns its id.
    mutating func add(_ definition: TypeDefinition) -> Int {
        add([], parameters: [], definition)
    }

    /// Reserves an id for a type defined later (recursive types such as `RuntimeCall`).
    mutating func reserve(_ path: [String], parameters: [(String, Int?)] = []) -> Int {
        types.append((path, parameters, nil))
        return types.count - 1
    }

    mutating func define(_ id: Int, _ definition: TypeDefinition) {
        types[id].definition = definition
    }

    /// The id of a primitive, added on first use.
    mutating func primitive(_ kind: ScalePrimitive) -> Int {
        if let id = primitives[kind] { return id }
        let id = add(.primitive(kind))
        primitives[kind] = id
        return id
    }

    func encode(pallets: [PalletDefinition], extrinsicType: Int, signedExtensions: [(String, Int, Int)], runtimeType: Int) -> [UInt8] {
        var w = ScaleWriter(capacity: 64 * 1024)
        w.writeBytes(Array("meta".utf8))
        w.writeU8(14)
        w.writeCompact(UInt64(types.count))
        for (id, type) in types.enumerated() {
            w.writeCompact(UInt64(id))
            w.writeCompact(UInt64(type.path.count))
            for segment in type.path { w.writeString(segment) }
            w.writeCompact(UInt64(type.parameters.count))
            for (name, typeId) in type.parameters {
                w.writeString(name)
                if let typeId {
                    w.writeU8(1)
                    w.writeCompact(UInt64(typeId))
                } else {
                    w.writeU8(0)
                }
            }
            Self.encode(type.definition ?? .tuple([]), into: &w)
            w.writeCompact(UInt64(0))  // docs
        }
        w.writeCompact(UInt64(pallets.count))
        for pallet in pallets {
            w.writeString(pallet.name)
            if pallet.storage.isEmpty {
                w.writeU8(0)
            } else {
                w.writeU8(1)
                w.writeString(pallet.name)
                w.writeCompact(UInt64(pallet.storage.count))
                for entry in pallet.storage {
                    w.writeString(entry.name)
                    w.writeU8(1)  // modifier: Default
                    w.writeU8(0)  // Plain
                    w.writeCompact(UInt64(entry.valueType))
                    w.writeByteVector(entry.defaultValue)
                    w.writeCompact(UInt64(0))
                }
            }
            Self.writeOptionalID(pallet.callType, into: &w)
            Self.writeOptionalID(pallet.eventType, into: &w)
            w.writeCompact(UInt64(pallet.constants.count))
            for constant in pallet.constants {
                w.writeString(constant.name)
                w.writeCompact(UInt64(constant.type))
                w.writeByteVector(constant.value)
                w.writeCompact(UInt64(0))
            }
            Self.writeOptionalID(pallet.errorType, into: &w)
            w.writeU8(pallet.index)
        }
        w.writeCompact(UInt64(extrinsicType))
        w.writeU8(4)
        w.writeCompact(UInt64(signedExtensions.count))
        for (identifier, type, additional) in signedExtensions {
            w.writeString(identifier)
            w.writeCompact(UInt64(type))
            w.writeCompact(UInt64(additional))
        }
        w.writeCompact(UInt64(runtimeType))
        return w.bytes
    }

    private static func writeOptionalID(_ id: Int?, into w: inout ScaleWriter) {
        if let id {
            w.writeU8(1)
            w.writeCompact(UInt64(id))
        } else {
            w.writeU8(0)
        }
    }

    private static func writeFields(_ fields: [FieldDefinition], into w: inout ScaleWriter) {
        w.writeCompact(UInt64(fields.count))
        for field in fields {
            if let name = field.name {
                w.writeU8(1)
                w.writeString(name)
            } else {
                w.writeU8(0)
            }
            w.writeCompact(UInt64(field.type))
            if let typeName = field.typeName {
                w.writeU8(1)
                w.writeString(typeName)
            } else {
                w.writeU8(0)
            }
            w.writeCompact(UInt64(0))
        }
    }

    private static func encode(_ definition: TypeDefinition, into w: inout ScaleWriter) {
        switch definition {
        case .composite(let fields):
            w.writeU8(0)
            writeFields(fields, into: &w)
        case .variant(let variants):
            w.writeU8(1)
            w.writeCompact(UInt64(variants.count))
            for variant in variants {
                w.writeString(variant.name)
                writeFields(variant.fields, into: &w)
                w.writeU8(variant.index)
                w.writeCompact(UInt64(0))
            }
        case .sequence(let element):
            w.writeU8(2)
            w.writeCompact(UInt64(element))
        case .array(let length, let element):
            w.writeU8(3)
            w.writeU32(length)
            w.writeCompact(UInt64(element))
        case .tuple(let ids):
            w.writeU8(4)
            w.writeCompact(UInt64(ids.count))
            for id in ids { w.writeCompact(UInt64(id)) }
        case .primitive(let kind):
            w.writeU8(5)
            w.writeU8(kind.rawValue)
        case .compact(let id):
            w.writeU8(6)
            w.writeCompact(UInt64(id))
        }
    }
}
