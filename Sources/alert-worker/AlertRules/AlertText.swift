import Foundation
import SubstrateRuntime
import SubstratePrimitives
import Store
import Wire
import WorkerRuntime

/// The number, time and hash formats of spec §6.6 and §6.4, exactly as the original alerter printed them
/// (Rust `Display` for floats, humantime durations, `{:.2}`, short hashes with U+2026).
package enum AlertText {
    /// `0x` + first 2 bytes + `…` + last 2 bytes.
    package static func shortHash(_ bytes: [UInt8]) -> String {
        guard bytes.count >= 4 else { return Hex.encode(bytes) }
        return Hex.encode(bytes.prefix(2)) + "\u{2026}" + Hex.encode(bytes.suffix(2), prefix: false)
    }

    /// Rust's `Display` for `f64`: the shortest decimal that round-trips, never in exponent form,
    /// no trailing `.0` for integral values (`2000000`, `8.75`, `1139874.58`).
    package static func rustFloat(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        let text = "\(value)" // Swift: shortest round-trip, possibly with an exponent
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var negative = false
        if mantissa.hasPrefix("-") { negative = true; mantissa = mantissa.dropFirst() }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        var integer = String(parts[0])
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        if fraction.allSatisfy({ $0 == "0" }) { fraction = "" }
        // Shift the decimal point by `exponent`.
        var digits = integer + fraction
        var point = integer.count + exponent
        if point <= 0 {
            digits = String(repeating: "0", count: -point + 1) + digits
            point = 1
        } else if point > digits.count {
            digits += String(repeating: "0", count: point - digits.count)
        }
        integer = String(digits.prefix(point))
        fraction = String(digits.dropFirst(point))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        while integer.count > 1 && integer.hasPrefix("0") { integer.removeFirst() }
        return (negative ? "-" : "") + integer + (fraction.isEmpty ? "" : "." + fraction)
    }

    /// Rust `{:.2}`: correctly rounded from the exact binary value (Foundation's `%.2f` does the same).
    package static func twoDecimals(_ value: Double) -> String {
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value.isNaN { return "NaN" }
        return String(format: "%.2f", value)
    }

    /// `{base units / 10^decimals as f64} {symbol}`, or `unknown`.
    package static func amount(_ value: UInt128?, decimals: Int, symbol: String) -> String {
        guard let value else { return "unknown" }
        return "\(rustFloat(Double(value) / pow(10, Double(decimals)))) \(symbol)"
    }

    /// humantime style with sub-seconds dropped: `1year 2months 3days 4h 5m 6s`, zero units omitted, `0s` for zero.
    package static func duration(milliseconds: UInt64) -> String {
        var seconds = milliseconds / 1000
        if seconds == 0 { return "0s" }
        let units: [(UInt64, String, Bool)] = [
            (31_557_600, "year", true), (2_630_016, "month", true), (86_400, "day", true),
            (3_600, "h", false), (60, "m", false), (1, "s", false),
        ]
        var parts: [String] = []
        for (size, name, plural) in units {
            let n = seconds / size
            seconds %= size
            guard n > 0 else { continue }
            parts.append("\(n)\(name)\(plural && n > 1 ? "s" : "")")
        }
        return parts.joined(separator: " ")
    }

    /// A signed time delta: `- ` prefix when negative, `missing` when unknown.
    package static func timeDelta(milliseconds: Int64?) -> String {
        guard let ms = milliseconds else { return "missing" }
        return ms < 0 ? "- " + duration(milliseconds: ms.magnitude) : duration(milliseconds: UInt64(ms))
    }

    /// `%Y-%m-%d %H:%M:%S UTC` for Unix milliseconds.
    package static func timestamp(milliseconds: UInt64) -> String {
        let seconds = Int64(milliseconds / 1000)
        // Civil-from-days (Howard Hinnant), no Foundation formatter: exact and fast.
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        var year = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) UTC"
    }

    /// RFC 3339 UTC with milliseconds (`2025-06-15T15:06:46.000Z`), as `AlertPayload.timestamp` writes it, without
    /// a per-call ISO8601DateFormatter.
    package static func rfc3339(milliseconds: UInt64) -> String {
        let t = timestamp(milliseconds: milliseconds) // "YYYY-MM-DD HH:MM:SS UTC"
        let ms = milliseconds % 1000
        let frac = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return String(t.prefix(10)) + "T" + String(t.dropFirst(11).prefix(8)) + "." + frac + "Z"
    }

    /// Long field texts are cut to 199 characters: first 98 + `...` + last 98 (spec §6.4, when ≥ 198).
    package static func truncateField(_ text: String) -> String {
        let chars = Array(text)
        guard chars.count >= 198 else { return text }
        return String(chars.prefix(98)) + "..." + String(chars.suffix(98))
    }

    /// Compact scale-value style: `{ a: 1, b: (0x…) }`, `Variant(…)`, byte strings as 0x-hex.
    package static func value(_ v: ScaleValue) -> String {
        switch v {
        case .bool(let b): return b ? "true" : "false"
        case .char(let c): return "'\(c)'"
        case .string(let s): return "\"\(s)\""
        case .unsigned(let n): return "\(n)"
        case .signed(let n): return "\(n)"
        case .unsigned256(let n): return Hex.encode(n.littleEndianBytes)
        case .signed256(let n): return Hex.encode(n.littleEndianBytes)
        case .bytes(let b): return Hex.encode(b)
        case .bits(let bits): return "<" + bits.map { $0 ? "1" : "0" }.joined() + ">"
        case .sequence(let items): return "(" + items.map(value).joined(separator: ", ") + ")"
        case .composite(let c): return fields(c.fields)
        case .variant(let variant):
            return variant.fields.isEmpty ? variant.name : variant.name + " " + fields(variant.fields)
        }
    }

    /// Named fields as `{ a: 1, b: 2 }`, unnamed as `(1, 2)`.
    package static func fields(_ fields: [ScaleField]) -> String {
        if fields.isEmpty { return "()" }
        if fields.allSatisfy({ $0.name != nil }) {
            return "{ " + fields.map { "\($0.name!): \(value($0.value))" }.joined(separator: ", ") + " }"
        }
        return "(" + fields.map { value($0.value) }.joined(separator: ", ") + ")"
    }
}
