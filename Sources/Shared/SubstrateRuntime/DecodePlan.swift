import SubstratePrimitives
/// The type registry compiled into flat, reference-free tables for the decoder's hot path: reading a node, a
/// field id or a variant slot touches no reference count. Built once per metadata; immutable afterwards.
final class DecodePlan: @unchecked Sendable {
    // @unchecked: the buffers are written only in `init` and freed in `deinit`; all later access is read-only.

    enum Kind: UInt8 {
        case primitive, wrapper, composite, variant, sequence, bytesSequence, array, bytesArray, tuple, compact, bits
    }

    /// One type. Meaning of `a`/`b` by kind: wrapper a=inner; composite/tuple a=first field slot, b=count;
    /// variant a=first slot in the 256-entry variant table; sequence a=element; array a=element, b=length;
    /// compact a=inner; bits a=store bits, b=1 for Msb0.
    struct Node {
        var kind: Kind
        var primitive: UInt8
        var a: Int32
        var b: Int32
    }

    /// One enum variant: its fields' slots and its position in the type's `variants` (for the name).
    struct VariantSlot {
        var fieldStart: Int32
        var fieldCount: Int32
        var nameIndex: Int32
        var index: UInt8
    }

    let nodes: UnsafeMutableBufferPointer<Node>
    let fieldTypes: UnsafeMutableBufferPointer<Int32>
    let variantTable: UnsafeMutableBufferPointer<Int32>
    let variantSlots: UnsafeMutableBufferPointer<VariantSlot>
    /// Field names by field slot, and variant names by `nameIndex`; strings are copied only into decoded values.
    let fieldNames: [String?]
    let variantNames: [String]

    init(_ types: [PortableType]) {
        var nodes: [Node] = []
        var fieldTypes: [Int32] = []
        var fieldNames: [String?] = []
        var variantTable: [Int32] = []
        var variantSlots: [VariantSlot] = []
        var variantNames: [String] = []
        nodes.reserveCapacity(types.count)
        for type in types {
            switch type.shape {
            case .primitive(let p):
                nodes.append(Node(kind: .primitive, primitive: p.rawValue, a: 0, b: 0))
            case .composite(let fields):
                if fields.count == 1, fields[0].name == nil {
                    nodes.append(Node(kind: .wrapper, primitive: 0, a: Int32(fields[0].typeId), b: 0))
                } else {
                    nodes.append(Node(kind: .composite, primitive: 0, a: Int32(fieldTypes.count), b: Int32(fields.count)))
                    for f in fields {
                        fieldTypes.append(Int32(f.typeId))
                        fieldNames.append(f.name)
                    }
                }
            case .variant(let variants, _):
                nodes.append(Node(kind: .variant, primitive: 0, a: Int32(variantTable.count), b: 0))
                var table = [Int32](repeating: -1, count: 256)
                for v in variants {
                    table[Int(v.index)] = Int32(variantSlots.count)
                    variantSlots.append(VariantSlot(fieldStart: Int32(fieldTypes.count), fieldCount: Int32(v.fields.count),
                                                    nameIndex: Int32(variantNames.count), index: v.index))
                    variantNames.append(v.name)
                    for f in v.fields {
                        fieldTypes.append(Int32(f.typeId))
                        fieldNames.append(f.name)
                    }
                }
                variantTable.append(contentsOf: table)
            case .sequence(let e):
                nodes.append(Node(kind: type.isByteSequence ? .bytesSequence : .sequence, primitive: 0, a: Int32(e), b: 0))
            case .array(let n, let e):
                nodes.append(Node(kind: type.isByteSequence ? .bytesArray : .array, primitive: 0, a: Int32(e), b: Int32(clamping: n)))
            case .tuple(let ids):
                nodes.append(Node(kind: .tuple, primitive: 0, a: Int32(fieldTypes.count), b: Int32(ids.count)))
                for id in ids {
                    fieldTypes.append(Int32(id))
                    fieldNames.append(nil)
                }
            case .compact(let inner):
                nodes.append(Node(kind: .compact, primitive: 0, a: Int32(inner), b: 0))
            case .bitSequence(let storeBits, let order):
                nodes.append(Node(kind: .bits, primitive: 0, a: Int32(storeBits), b: order == .msb0 ? 1 : 0))
            }
        }
        func copy<T>(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
            _ = buffer.initialize(from: array)
            return buffer
        }
        self.nodes = copy(nodes)
        self.fieldTypes = copy(fieldTypes)
        self.variantTable = copy(variantTable)
        self.variantSlots = copy(variantSlots)
        self.fieldNames = fieldNames
        self.variantNames = variantNames
    }

    deinit {
        nodes.deallocate()
        fieldTypes.deallocate()
        variantTable.deallocate()
        variantSlots.deallocate()
    }
}
