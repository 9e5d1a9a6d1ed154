import SubstratePrimitives

// Field codecs shared by the data-path messages (Option, enums, text). Module-internal helpers rather than
// ScaleWriter/ScaleReader extensions, so the SCALE module's own API stays what it is.

func writeOptional<T>(_ writer: inout ScaleWriter, _ value: T?, _ body: (inout ScaleWriter, T) -> Void) {
    if let value {
        writer.writeU8(1)
        body(&writer, value)
    } else {
        writer.writeU8(0)
    }
}

func readOptional<T>(_ reader: inout ScaleReader, _ typeName: String,
                             _ body: (inout ScaleReader) throws(ScaleError) -> T) throws(ScaleError) -> T? {
    let start = reader.offset
    switch try reader.readU8(typeName) {
    case 0: return nil
    case 1: return try body(&reader)
    case let other: throw ScaleError(.invalidValue("Option tag \(other)"), offset: start, typeName: typeName)
    }
}

func readEnum<E: RawRepresentable>(_ reader: inout ScaleReader, _ typeName: String) throws(ScaleError) -> E
    where E.RawValue == UInt8 {
    let start = reader.offset
    let raw = try reader.readU8(typeName)
    guard let value = E(rawValue: raw) else {
        throw ScaleError(.invalidValue("variant \(raw)"), offset: start, typeName: typeName)
    }
    return value
}

func readText(_ reader: inout ScaleReader, _ typeName: String) throws(ScaleError) -> String {
    let start = reader.offset
    let bytes = try reader.readByteVector(typeName)
    guard let text = decodeUTF8(bytes, 0 ..< bytes.count) else {
        throw ScaleError(.invalidValue("invalid UTF-8"), offset: start, typeName: typeName)
    }
    return text
}
