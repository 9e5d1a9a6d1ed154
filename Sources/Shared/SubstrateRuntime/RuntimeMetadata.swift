import SubstratePrimitives
/// Why runtime metadata could not be used.
public enum MetadataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The blob does not start with the `meta` magic; it may still be hex, or wrapped in `Option`/`OpaqueMetadata`.
    case badMagic
    /// A metadata version this decoder does not read.
    case unsupportedVersion(Int)
    /// The blob is malformed at the SCALE level.
    case malformed(ScaleError)
    /// The type registry is inconsistent.
    case invalidTypeRegistry(String)
    /// Something the decoder needs is missing or has an unexpected shape.
    case missing(String)
    /// The data belongs to another runtime version than this metadata describes.
    case specVersionMismatch(expected: UInt32, actual: UInt32?)

    public var description: String {
        switch self {
        case .badMagic: "metadata does not start with the 'meta' magic (0x6d657461); pass the raw metadata bytes, not hex or an Option wrapper"
        case .unsupportedVersion(let v): "metadata version \(v) is not supported (V14 and V15 are)"
        case .malformed(let e): "malformed metadata: \(e)"
        case .invalidTypeRegistry(let detail): "invalid type registry: \(detail)"
        case .missing(let what): "metadata lacks \(what)"
        case .specVersionMismatch(let expected, let actual):
            "the data is from runtime spec version \(expected) but the metadata is for \(actual.map(String.init) ?? "an unknown spec version"); fetch the metadata of that runtime (state_getMetadata at the block)"
        }
    }
}

/// How a storage key part is hashed.
public enum StorageHasher: UInt8, Sendable {
    case blake2_128 = 0, blake2_256, blake2_128Concat, twox128, twox256, twox64Concat, identity
}

/// A storage item of a pallet.
public struct StorageEntryMetadata: Sendable {
    /// A plain value, or a map with one hasher per key part.
    public enum Kind: Sendable {
        case plain(valueTypeId: Int)
        case map(hashers: [StorageHasher], keyTypeId: Int, valueTypeId: Int)
    }
    public let name: String
    /// 0 = Optional, 1 = Default.
    public let modifier: UInt8
    public let kind: Kind
    public let defaultValue: [UInt8]

    public var valueTypeId: Int {
        switch kind {
        case .plain(let v): v
        case .map(_, _, let v): v
        }
    }
}

/// A constant of a pallet: its type and SCALE-encoded value.
public struct ConstantMetadata: Sendable {
    public let name: String
    public let typeId: Int
    public let value: [UInt8]
}

/// One pallet of the runtime: its index and the type ids of its calls, events and errors.
public struct PalletMetadata: Sendable {
    public let name: String
    public let index: UInt8
    public let storagePrefix: String?
    public let storage: [StorageEntryMetadata]
    public let callTypeId: Int?
    public let eventTypeId: Int?
    public let errorTypeId: Int?
    public let constants: [ConstantMetadata]

    public func storageEntry(named name: String) -> StorageEntryMetadata? { storage.first { $0.name == name } }
    public func constant(named name: String) -> ConstantMetadata? { constants.first { $0.name == name } }
}

/// A signed extension as listed in the extrinsic metadata, in the order its "extra" values appear on the wire.
public struct SignedExtensionMetadata: Sendable {
    public let identifier: String
    public let typeId: Int
    public let additionalSignedTypeId: Int
}

/// How extrinsics are laid out: format version, and the types of address, call, signature and extensions.
public struct ExtrinsicMetadata: Sendable {
    public let version: UInt8
    /// The `UncheckedExtrinsic` type (V14 only).
    public let extrinsicTypeId: Int?
    public let addressTypeId: Int
    public let callTypeId: Int
    public let signatureTypeId: Int
    public let extraTypeId: Int?
    public let signedExtensions: [SignedExtensionMetadata]
}

/// A runtime API method (V15).
public struct RuntimeApiMethodMetadata: Sendable {
    public let name: String
    public let inputs: [(name: String, typeId: Int)]
    public let outputTypeId: Int
}

/// A runtime API trait (V15).
public struct RuntimeApiMetadata: Sendable {
    public let name: String
    public let methods: [RuntimeApiMethodMetadata]
}

/// The outer `RuntimeCall`/`RuntimeEvent`/`RuntimeError` enums (V15).
public struct OuterEnumsMetadata: Sendable {
    public let callTypeId: Int
    public let eventTypeId: Int
    public let errorTypeId: Int
}

/// Parsed runtime metadata (V14 or V15). Immutable and `Sendable`: parse once per runtime spec version and share it.
public final class RuntimeMetadata: Sendable {
    public let version: Int
    public let registry: TypeRegistry
    public let pallets: [PalletMetadata]
    public let extrinsic: ExtrinsicMetadata
    /// The `Runtime` type id.
    public let runtimeTypeId: Int
    public let apis: [RuntimeApiMetadata]
    public let outerEnums: OuterEnumsMetadata?
    public let custom: [(name: String, typeId: Int, value: [UInt8])]
    /// Type id of the `System.Events` storage value (`Vec<EventRecord>`), if the runtime has it.
    public let eventsTypeId: Int?
    /// `System.Version.spec_version`, when the constant is present.
    public let specVersion: UInt32?
    /// `System.Version.spec_name`, when the constant is present.
    public let specName: String?
    /// `System.SS58Prefix`, when the constant is present.
    public let ss58Prefix: UInt16?

    private let palletsByIndex: [Int16]

    /// Parses raw metadata bytes: the `meta` magic, the version byte, then the V14/V15 body.
    public init(bytes: [UInt8]) throws(MetadataError) {
        guard bytes.count >= 5, bytes[0] == 0x6d, bytes[1] == 0x65, bytes[2] == 0x74, bytes[3] == 0x61 else {
            throw .badMagic
        }
        let version = Int(bytes[4])
        guard version == 14 || version == 15 else { throw .unsupportedVersion(version) }
        var reader = ScaleReader(bytes, offset: 5)
        let body: MetadataBody
        do {
            body = try MetadataBody.parse(&reader, version: version)
            try reader.expectEnd("RuntimeMetadataV\(version)")
        } catch {
            throw .malformed(error)
        }
        let registry = try TypeRegistry(raw: body.types)
        self.version = version
        self.registry = registry
        self.pallets = body.pallets
        self.runtimeTypeId = body.runtimeTypeId
        self.apis = body.apis
        self.outerEnums = body.outerEnums
        self.custom = body.custom

        var byIndex = [Int16](repeating: -1, count: 256)
        for (position, pallet) in body.pallets.enumerated() { byIndex[Int(pallet.index)] = Int16(position) }
        palletsByIndex = byIndex

        // V14 names address/call/signature/extra only as generic parameters of UncheckedExtrinsic.
        if let raw = body.extrinsicV15 {
            extrinsic = raw
        } else {
            guard let extrinsicType = registry[body.extrinsicTypeId] else {
                throw .missing("the extrinsic type \(body.extrinsicTypeId)")
            }
            func parameter(_ name: String) throws(MetadataError) -> Int {
                guard let id = extrinsicType.parameters.first(where: { $0.name == name })?.typeId else {
                    throw .missing("the '\(name)' parameter of \(extrinsicType.displayName)")
                }
                return id
            }
            extrinsic = ExtrinsicMetadata(
                version: body.extrinsicVersion, extrinsicTypeId: body.extrinsicTypeId,
                addressTypeId: try parameter("Address"), callTypeId: try parameter("Call"),
                signatureTypeId: try parameter("Signature"), extraTypeId: try? parameter("Extra"),
                signedExtensions: body.signedExtensions)
        }
        for ext in extrinsic.signedExtensions where registry[ext.typeId] == nil || registry[ext.additionalSignedTypeId] == nil {
            throw .invalidTypeRegistry("signed extension \(ext.identifier) refers to a missing type")
        }
        for id in [extrinsic.addressTypeId, extrinsic.callTypeId, extrinsic.signatureTypeId] where registry[id] == nil {
            throw .invalidTypeRegistry("extrinsic refers to missing type id \(id)")
        }
        for pallet in body.pallets {
            for id in [pallet.callTypeId, pallet.eventTypeId, pallet.errorTypeId].compactMap({ $0 }) + pallet.constants.map(\.typeId) + pallet.storage.map(\.valueTypeId)
            where registry[id] == nil {
                throw .invalidTypeRegistry("pallet \(pallet.name) refers to missing type id \(id)")
            }
        }

        let system = body.pallets.first { $0.name == "System" }
        eventsTypeId = system?.storageEntry(named: "Events")?.valueTypeId
        var specVersion: UInt32?
        var specName: String?
        if let constant = system?.constant(named: "Version"), let value = try? registry.decode(constant.typeId, from: constant.value) {
            specVersion = value["spec_version"]?.asUInt64.map { UInt32(truncatingIfNeeded: $0) }
            specName = value["spec_name"]?.asString
        }
        self.specVersion = specVersion
        self.specName = specName
        if let constant = system?.constant(named: "SS58Prefix"), let value = try? registry.decode(constant.typeId, from: constant.value) {
            ss58Prefix = value.asUInt64.map { UInt16(truncatingIfNeeded: $0) }
        } else {
            ss58Prefix = nil
        }
    }

    /// Fails unless this metadata describes runtime `specVersion` (as reported by `state_getRuntimeVersion` for the
    /// block). SCALE has no type tags, so checking the version is the only complete defence against decoding
    /// with the metadata of a byte-compatible but different runtime.
    public func requireSpecVersion(_ specVersion: UInt32) throws(MetadataError) {
        if self.specVersion != specVersion { throw .specVersionMismatch(expected: specVersion, actual: self.specVersion) }
    }

    /// The pallet with this index, if the runtime has one.
    public func pallet(at index: UInt8) -> PalletMetadata? {
        let position = Int(palletsByIndex[Int(index)])
        return position >= 0 ? pallets[position] : nil
    }

    public func pallet(named name: String) -> PalletMetadata? { pallets.first { $0.name == name } }

    /// Decodes the constant `pallet.name`.
    public func constant(_ pallet: String, _ name: String) -> ScaleValue? {
        guard let constant = self.pallet(named: pallet)?.constant(named: name) else { return nil }
        return try? registry.decode(constant.typeId, from: constant.value)
    }
}

/// The raw fields of a V14/V15 metadata body before the registry is indexed.
private struct MetadataBody {
    var types: [(id: Int, path: [String], parameters: [(name: String, typeId: Int?)], shape: TypeShape)] = []
    var pallets: [PalletMetadata] = []
    var extrinsicTypeId = 0
    var extrinsicVersion: UInt8 = 0
    var signedExtensions: [SignedExtensionMetadata] = []
    var extrinsicV15: ExtrinsicMetadata?
    var runtimeTypeId = 0
    var apis: [RuntimeApiMetadata] = []
    var outerEnums: OuterEnumsMetadata?
    var custom: [(name: String, typeId: Int, value: [UInt8])] = []

    static func parse(_ r: inout ScaleReader, version: Int) throws(ScaleError) -> MetadataBody {
        var body = MetadataBody()
        let typeCount = try r.readLength("PortableRegistry", minimumElementSize: 4)
        body.types.reserveCapacity(typeCount)
        var bitSequences: [(position: Int, store: Int, order: Int, offset: Int)] = []
        for _ in 0 ..< typeCount {
            let id = try compactId(&r, "PortableType.id")
            let path = try strings(&r, "Type.path")
            let paramCount = try r.readLength("Type.params", minimumElementSize: 2)
            var params: [(name: String, typeId: Int?)] = []
            for _ in 0 ..< paramCount {
                let name = try r.readString("TypeParameter.name")
                let typeId = try optional(&r, "TypeParameter.type") { (r: inout ScaleReader) throws(ScaleError) in try compactId(&r, "TypeParameter.type") }
                params.append((name, typeId))
            }
            var pendingBits: (store: Int, order: Int)?
            let shape = try typeDef(&r, path: path, pendingBits: &pendingBits)
            _ = try strings(&r, "Type.docs")
            if let pendingBits { bitSequences.append((body.types.count, pendingBits.store, pendingBits.order, r.offset)) }
            body.types.append((id, path, params, shape))
        }
        // Bit sequences name their store and order types by id; resolve them now that every type is known.
        for (position, store, order, offset) in bitSequences {
            guard let storeType = body.types.first(where: { $0.id == store }), let orderType = body.types.first(where: { $0.id == order }) else {
                throw ScaleError(.unknownTypeId(store), offset: offset, typeName: "TypeDefBitSequence")
            }
            let storeBits: Int
            switch storeType.shape {
            case .primitive(.u8): storeBits = 8
            case .primitive(.u16): storeBits = 16
            case .primitive(.u32): storeBits = 32
            case .primitive(.u64): storeBits = 64
            default: throw ScaleError(.invalidValue("bit store type must be u8/u16/u32/u64"), offset: offset, typeName: "TypeDefBitSequence")
            }
            let bitOrder: BitOrder
            switch orderType.path.last {
            case "Lsb0": bitOrder = .lsb0
            case "Msb0": bitOrder = .msb0
            default: throw ScaleError(.invalidValue("bit order type must be Lsb0 or Msb0"), offset: offset, typeName: "TypeDefBitSequence")
            }
            body.types[position].shape = .bitSequence(storeBits: storeBits, order: bitOrder)
        }
        let palletCount = try r.readLength("Vec<PalletMetadata>", minimumElementSize: 5)
        for _ in 0 ..< palletCount { body.pallets.append(try pallet(&r, version: version)) }

        if version == 14 {
            body.extrinsicTypeId = try compactId(&r, "ExtrinsicMetadata.ty")
            body.extrinsicVersion = try r.readU8("ExtrinsicMetadata.version")
            body.signedExtensions = try signedExtensions(&r)
            body.runtimeTypeId = try compactId(&r, "RuntimeMetadataV14.ty")
        } else {
            let version = try r.readU8("ExtrinsicMetadata.version")
            let address = try compactId(&r, "ExtrinsicMetadata.address_ty")
            let call = try compactId(&r, "ExtrinsicMetadata.call_ty")
            let signature = try compactId(&r, "ExtrinsicMetadata.signature_ty")
            let extra = try compactId(&r, "ExtrinsicMetadata.extra_ty")
            let extensions = try signedExtensions(&r)
            body.extrinsicV15 = ExtrinsicMetadata(version: version, extrinsicTypeId: nil, addressTypeId: address, callTypeId: call,
                                                  signatureTypeId: signature, extraTypeId: extra, signedExtensions: extensions)
            body.runtimeTypeId = try compactId(&r, "RuntimeMetadataV15.ty")
            let apiCount = try r.readLength("Vec<RuntimeApiMetadata>", minimumElementSize: 3)
            for _ in 0 ..< apiCount {
                let name = try r.readString("RuntimeApiMetadata.name")
                let methodCount = try r.readLength("Vec<RuntimeApiMethodMetadata>", minimumElementSize: 4)
                var methods: [RuntimeApiMethodMetadata] = []
                for _ in 0 ..< methodCount {
                    let methodName = try r.readString("RuntimeApiMethodMetadata.name")
                    let inputCount = try r.readLength("Vec<RuntimeApiMethodParamMetadata>", minimumElementSize: 2)
                    var inputs: [(name: String, typeId: Int)] = []
                    for _ in 0 ..< inputCount {
                        inputs.append((try r.readString("RuntimeApiMethodParamMetadata.name"), try compactId(&r, "RuntimeApiMethodParamMetadata.ty")))
                    }
                    let output = try compactId(&r, "RuntimeApiMethodMetadata.output")
                    _ = try strings(&r, "RuntimeApiMethodMetadata.docs")
                    methods.append(RuntimeApiMethodMetadata(name: methodName, inputs: inputs, outputTypeId: output))
                }
                _ = try strings(&r, "RuntimeApiMetadata.docs")
                body.apis.append(RuntimeApiMetadata(name: name, methods: methods))
            }
            body.outerEnums = OuterEnumsMetadata(callTypeId: try compactId(&r, "OuterEnums.call_enum_ty"),
                                                 eventTypeId: try compactId(&r, "OuterEnums.event_enum_ty"),
                                                 errorTypeId: try compactId(&r, "OuterEnums.error_enum_ty"))
            let customCount = try r.readLength("CustomMetadata", minimumElementSize: 3)
            for _ in 0 ..< customCount {
                let name = try r.readString("CustomMetadata.key")
                let typeId = try compactId(&r, "CustomValueMetadata.ty")
                let value = try r.readByteVector("CustomValueMetadata.value")
                body.custom.append((name, typeId, value))
            }
        }
        return body
    }

    private static func compactId(_ r: inout ScaleReader, _ typeName: String) throws(ScaleError) -> Int {
        let start = r.offset
        let value = try r.readCompactU64(typeName)
        guard value <= UInt64(UInt32.max) else {
            throw ScaleError(.invalidValue("type id \(value) exceeds u32"), offset: start, typeName: typeName)
        }
        return Int(value)
    }

    private static func strings(_ r: inout ScaleReader, _ typeName: String) throws(ScaleError) -> [String] {
        let count = try r.readLength(typeName, minimumElementSize: 1)
        var out: [String] = []
        out.reserveCapacity(count)
        for _ in 0 ..< count { out.append(try r.readString(typeName)) }
        return out
    }

    private static func optional<T>(_ r: inout ScaleReader, _ typeName: String, _ body: (inout ScaleReader) throws(ScaleError) -> T) throws(ScaleError) -> T? {
        let start = r.offset
        switch try r.readU8(typeName) {
        case 0: return nil
        case 1: return try body(&r)
        case let other: throw ScaleError(.invalidValue("Option tag \(other)"), offset: start, typeName: typeName)
        }
    }

    private static func fields(_ r: inout ScaleReader) throws(ScaleError) -> [TypeField] {
        let count = try r.readLength("Vec<Field>", minimumElementSize: 4)
        var out: [TypeField] = []
        out.reserveCapacity(count)
        for _ in 0 ..< count {
            let name = try optional(&r, "Field.name") { (r: inout ScaleReader) throws(ScaleError) in try r.readString("Field.name") }
            let typeId = try compactId(&r, "Field.ty")
            let typeName = try optional(&r, "Field.type_name") { (r: inout ScaleReader) throws(ScaleError) in try r.readString("Field.type_name") }
            _ = try strings(&r, "Field.docs")
            out.append(TypeField(name: name, typeId: typeId, typeName: typeName))
        }
        return out
    }

    private static func typeDef(_ r: inout ScaleReader, path: [String], pendingBits: inout (store: Int, order: Int)?) throws(ScaleError) -> TypeShape {
        let start = r.offset
        switch try r.readU8("TypeDef") {
        case 0:
            return .composite(try fields(&r))
        case 1:
            let count = try r.readLength("Vec<Variant>", minimumElementSize: 4)
            var variants: [TypeVariant] = []
            var byIndex = [Int16](repeating: -1, count: 256)
            for _ in 0 ..< count {
                let name = try r.readString("Variant.name")
                let variantFields = try fields(&r)
                let indexOffset = r.offset
                let index = try r.readU8("Variant.index")
                _ = try strings(&r, "Variant.docs")
                if byIndex[Int(index)] >= 0 {
                    throw ScaleError(.invalidValue("duplicate variant index \(index)"), offset: indexOffset, typeName: "Variant.index")
                }
                byIndex[Int(index)] = Int16(variants.count)
                variants.append(TypeVariant(name: name, index: index, fields: variantFields))
            }
            return .variant(variants: variants, byIndex: byIndex)
        case 2:
            return .sequence(element: try compactId(&r, "TypeDefSequence"))
        case 3:
            let length = Int(try r.readU32("TypeDefArray.len"))
            return .array(length: length, element: try compactId(&r, "TypeDefArray.type"))
        case 4:
            let count = try r.readLength("TypeDefTuple", minimumElementSize: 1)
            var ids: [Int] = []
            for _ in 0 ..< count { ids.append(try compactId(&r, "TypeDefTuple")) }
            return .tuple(ids)
        case 5:
            let primitiveOffset = r.offset
            let raw = try r.readU8("TypeDefPrimitive")
            guard let primitive = ScalePrimitive(rawValue: raw) else {
                throw ScaleError(.unknownVariant(Int(raw)), offset: primitiveOffset, typeName: "TypeDefPrimitive")
            }
            return .primitive(primitive)
        case 6:
            return .compact(try compactId(&r, "TypeDefCompact"))
        case 7:
            // Store and order types are resolved once the whole registry is read; keep their ids for now.
            let store = try compactId(&r, "TypeDefBitSequence.bit_store_type")
            let order = try compactId(&r, "TypeDefBitSequence.bit_order_type")
            pendingBits = (store, order)
            return .bitSequence(storeBits: 8, order: .lsb0)
        case let other:
            throw ScaleError(.unknownVariant(Int(other)), offset: start, typeName: "TypeDef")
        }
    }

    private static func signedExtensions(_ r: inout ScaleReader) throws(ScaleError) -> [SignedExtensionMetadata] {
        let count = try r.readLength("Vec<SignedExtensionMetadata>", minimumElementSize: 3)
        var out: [SignedExtensionMetadata] = []
        for _ in 0 ..< count {
            out.append(SignedExtensionMetadata(identifier: try r.readString("SignedExtensionMetadata.identifier"),
                                               typeId: try compactId(&r, "SignedExtensionMetadata.ty"),
                                               additionalSignedTypeId: try compactId(&r, "SignedExtensionMetadata.additional_signed")))
        }
        return out
    }

    private static func pallet(_ r: inout ScaleReader, version: Int) throws(ScaleError) -> PalletMetadata {
        let name = try r.readString("PalletMetadata.name")
        var prefix: String?
        var entries: [StorageEntryMetadata] = []
        if try optionalTag(&r, "PalletMetadata.storage") {
            prefix = try r.readString("PalletStorageMetadata.prefix")
            let count = try r.readLength("Vec<StorageEntryMetadata>", minimumElementSize: 5)
            for _ in 0 ..< count {
                let entryName = try r.readString("StorageEntryMetadata.name")
                let modifier = try r.readU8("StorageEntryModifier")
                let kindOffset = r.offset
                let kind: StorageEntryMetadata.Kind
                switch try r.readU8("StorageEntryType") {
                case 0:
                    kind = .plain(valueTypeId: try compactId(&r, "StorageEntryType::Plain"))
                case 1:
                    let hasherCount = try r.readLength("Vec<StorageHasher>", minimumElementSize: 1)
                    var hashers: [StorageHasher] = []
                    for _ in 0 ..< hasherCount {
                        let hasherOffset = r.offset
                        let raw = try r.readU8("StorageHasher")
                        guard let hasher = StorageHasher(rawValue: raw) else {
                            throw ScaleError(.unknownVariant(Int(raw)), offset: hasherOffset, typeName: "StorageHasher")
                        }
                        hashers.append(hasher)
                    }
                    let key = try compactId(&r, "StorageEntryType::Map.key")
                    let value = try compactId(&r, "StorageEntryType::Map.value")
                    kind = .map(hashers: hashers, keyTypeId: key, valueTypeId: value)
                case let other:
                    throw ScaleError(.unknownVariant(Int(other)), offset: kindOffset, typeName: "StorageEntryType")
                }
                let defaultValue = try r.readByteVector("StorageEntryMetadata.default")
                _ = try strings(&r, "StorageEntryMetadata.docs")
                entries.append(StorageEntryMetadata(name: entryName, modifier: modifier, kind: kind, defaultValue: defaultValue))
            }
        }
        let calls = try optional(&r, "PalletMetadata.calls") { (r: inout ScaleReader) throws(ScaleError) in try compactId(&r, "PalletCallMetadata.ty") }
        let event = try optional(&r, "PalletMetadata.event") { (r: inout ScaleReader) throws(ScaleError) in try compactId(&r, "PalletEventMetadata.ty") }
        let constantCount = try r.readLength("Vec<PalletConstantMetadata>", minimumElementSize: 4)
        var constants: [ConstantMetadata] = []
        for _ in 0 ..< constantCount {
            constants.append(ConstantMetadata(name: try r.readString("PalletConstantMetadata.name"),
                                              typeId: try compactId(&r, "PalletConstantMetadata.ty"),
                                              value: try r.readByteVector("PalletConstantMetadata.value")))
            _ = try strings(&r, "PalletConstantMetadata.docs")
        }
        let error = try optional(&r, "PalletMetadata.error") { (r: inout ScaleReader) throws(ScaleError) in try compactId(&r, "PalletErrorMetadata.ty") }
        let index = try r.readU8("PalletMetadata.index")
        if version >= 15 { _ = try strings(&r, "PalletMetadata.docs") }
        return PalletMetadata(name: name, index: index, storagePrefix: prefix, storage: entries, callTypeId: calls,
                              eventTypeId: event, errorTypeId: error, constants: constants)
    }

    private static func optionalTag(_ r: inout ScaleReader, _ typeName: String) throws(ScaleError) -> Bool {
        let start = r.offset
        switch try r.readU8(typeName) {
        case 0: return false
        case 1: return true
        case let other: throw ScaleError(.invalidValue("Option tag \(other)"), offset: start, typeName: typeName)
        }
    }
}
