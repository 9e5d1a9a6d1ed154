/// A SCALE decoding failure: what went wrong, at which byte offset, while decoding which type.
public struct ScaleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Equatable, Sendable {
        /// The input ended: `needed` more bytes were required, `available` were left.
        case truncated(needed: Int, available: Int)
        /// A compact integer used a longer mode than its value needs.
        case nonCanonicalCompact
        /// A value is not allowed here (bad bool byte, unknown variant index, invalid UTF-8, ...).
        case invalidValue(String)
        /// A declared length exceeds the configured bound or the remaining input.
        case lengthTooLarge(Int)
        /// Input remained after the value was fully decoded.
        case trailingBytes(Int)
        /// Nesting went deeper than the decoder allows.
        case tooDeep(Int)
        /// An enum index that the type (from the runtime metadata) does not define; often a sign of the wrong metadata.
        case unknownVariant(Int)
        /// The metadata refers to a type id that its registry does not contain.
        case unknownTypeId(Int)
    }

    public var reason: Reason
    public var offset: Int
    public var typeName: String

    public init(_ reason: Reason, offset: Int, typeName: String) {
        self.reason = reason
        self.offset = offset
        self.typeName = typeName
    }

    public var description: String {
        let what: String
        switch reason {
        case .truncated(let needed, let available):
            what = "input truncated: needed \(needed) byte(s), \(available) left"
        case .nonCanonicalCompact:
            what = "non-canonical compact encoding"
        case .invalidValue(let detail):
            what = "invalid value: \(detail)"
        case .lengthTooLarge(let length):
            what = "length \(length) is too large"
        case .trailingBytes(let count):
            what = "\(count) trailing byte(s) after the value"
        case .tooDeep(let depth):
            what = "nesting deeper than \(depth)"
        case .unknownVariant(let index):
            what = "unknown variant index \(index) (is this the metadata of the runtime that produced the data?)"
        case .unknownTypeId(let id):
            what = "type id \(id) is not in the metadata's type registry"
        }
        return "SCALE error decoding \(typeName) at byte offset \(offset): \(what)"
    }
}
