/// Prometheus text format 0.0.4: a small parser for what swift-prometheus emits (and any valid exposition),
/// and the aggregation of several workers' expositions into one with a `worker` label on every sample.

/// One sample line: `name{label="value",…} value [timestamp]`. Label values are unescaped.
struct ExpositionSample: Sendable, Equatable {
    var name: String
    var labels: [Label]
    /// As written (`12`, `1.5e-3`, `+Inf`, `NaN`); checked to be a number.
    var value: String
    var timestamp: String?

    struct Label: Sendable, Equatable {
        var name: String
        var value: String
    }

    var number: Double? { Self.parseNumber(value) }

    func label(_ name: String) -> String? { labels.first { $0.name == name }?.value }

    static func parseNumber(_ text: String) -> Double? {
        switch text {
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(text)
        }
    }
}

/// The samples of one metric family, with its TYPE and HELP.
struct ExpositionFamily: Sendable, Equatable {
    var name: String
    /// `counter`, `gauge`, `histogram`, `summary` or `untyped`.
    var type: String
    var help: String?
    var samples: [ExpositionSample]
}

enum Exposition {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Parses `text` into families in order of appearance. Lines that are not valid are skipped and counted
    /// in `rejected`. A sample belongs to the family declared by the last `# TYPE` with its name (or, for
    /// `_bucket`, `_sum`, `_count` and `_created`, the histogram or summary it extends); a sample with no
    /// declared family gets an `untyped` family of its own.
    static func parse(_ text: String) -> (families: [ExpositionFamily], rejected: Int) {
        var families: [ExpositionFamily] = []
        var index: [String: Int] = [:]
        var rejected = 0

        func family(named name: String) -> Int {
            if let i = index[name] { return i }
            families.append(ExpositionFamily(name: name, type: "untyped", help: nil, samples: []))
            index[name] = families.count - 1
            return families.count - 1
        }

        // Byte-wise: the text is ASCII but for label values and HELP, which are copied through as UTF-8.
        let bytes = Array(text.utf8)
        var lineStart = 0
        while lineStart < bytes.count {
            var end = lineStart
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var lineEnd = end
            if lineEnd > lineStart, bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            let line = bytes[lineStart ..< lineEnd]
            lineStart = end + 1
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            if line.first == UInt8(ascii: "#") {
                let comment = String(decoding: line.dropFirst(), as: UTF8.self)
                let parts = comment.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
                guard parts.count >= 2, parts[0] == "HELP" || parts[0] == "TYPE" else { continue }  // a plain comment
                let name = String(parts[1])
                guard isMetricName(name) else { rejected += 1; continue }
                let rest = parts.count > 2 ? String(parts[2]) : ""
                let i = family(named: name)
                if parts[0] == "HELP" {
                    if families[i].help == nil { families[i].help = rest }
                } else {
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(rest) else { rejected += 1; continue }
                    families[i].type = rest
                }
                continue
            }
            guard let sample = parseSample(bytes: line) else { rejected += 1; continue }
            var owner = sample.name
            if index[owner] == nil {
                for suffix in ["_bucket", "_sum", "_count", "_created"] where sample.name.hasSuffix(suffix) {
                    let base = String(sample.name.dropLast(suffix.count))
                    if let i = index[base], families[i].type == "histogram" || families[i].type == "summary" {
                        owner = base
                        break
                    }
                }
            }
            families[family(named: owner)].samples.append(sample)
        }
        return (families, rejected)
    }

    /// `name{labels} value [timestamp]`, or nil when the line is not a valid sample.
    static func parseSample<S: StringProtocol>(_ line: S) -> ExpositionSample? {
        parseSample(bytes: Array(line.utf8)[...])
    }

    static func parseSample(bytes line: ArraySlice<UInt8>) -> ExpositionSample? {
        func isNameStart(_ c: UInt8) -> Bool {
            c == UInt8(ascii: "_") || c == UInt8(ascii: ":") || (UInt8(ascii: "a") ... UInt8(ascii: "z")).contains(c)
                || (UInt8(ascii: "A") ... UInt8(ascii: "Z")).contains(c)
        }
        func isNameChar(_ c: UInt8) -> Bool { isNameStart(c) || (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(c) }
        func isBlank(_ c: UInt8) -> Bool { c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") }
        let end = line.endIndex
        var i = line.startIndex
        guard i < end, isNameStart(line[i]) else { return nil }
        let nameStart = i
        while i < end, isNameChar(line[i]) { i += 1 }
        let name = String(decoding: line[nameStart ..< i], as: UTF8.self)
        var labels: [ExpositionSample.Label] = []
        if i < end, line[i] == UInt8(ascii: "{") {
            i += 1
            while true {
                while i < end, line[i] == UInt8(ascii: " ") { i += 1 }
                guard i < end else { return nil }
                if line[i] == UInt8(ascii: "}") { i += 1; break }
                guard isNameStart(line[i]), line[i] != UInt8(ascii: ":") else { return nil }
                let labelStart = i
                while i < end, isNameChar(line[i]), line[i] != UInt8(ascii: ":") { i += 1 }
                let labelName = String(decoding: line[labelStart ..< i], as: UTF8.self)
                while i < end, line[i] == UInt8(ascii: " ") { i += 1 }
                guard i < end, line[i] == UInt8(ascii: "=") else { return nil }
                i += 1
                while i < end, line[i] == UInt8(ascii: " ") { i += 1 }
                guard i < end, line[i] == UInt8(ascii: "\"") else { return nil }
                i += 1
                var value: [UInt8] = []
                var closed = false
                while i < end {
                    let c = line[i]
                    if c == UInt8(ascii: "\\") {
                        guard i + 1 < end else { return nil }
                        switch line[i + 1] {
                        case UInt8(ascii: "\\"): value.append(UInt8(ascii: "\\"))
                        case UInt8(ascii: "\""): value.append(UInt8(ascii: "\""))
                        case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                        default: return nil
                        }
                        i += 2
                        continue
                    }
                    if c == UInt8(ascii: "\"") { closed = true; i += 1; break }
                    if c == UInt8(ascii: "\n") { return nil }
                    value.append(c)
                    i += 1
                }
                guard closed else { return nil }
                labels.append(.init(name: labelName, value: String(decoding: value, as: UTF8.self)))
                while i < end, line[i] == UInt8(ascii: " ") { i += 1 }
                guard i < end else { return nil }
                if line[i] == UInt8(ascii: ",") { i += 1; continue }
                if line[i] == UInt8(ascii: "}") { i += 1; break }
                return nil
            }
        }
        guard i < end, isBlank(line[i]) else { return nil }
        let rest = line[i...].split(whereSeparator: isBlank)
        guard rest.count == 1 || rest.count == 2 else { return nil }
        let value = String(decoding: rest[0], as: UTF8.self)
        guard ExpositionSample.parseNumber(value) != nil else { return nil }
        var timestamp: String? = nil
        if rest.count == 2 {
            timestamp = String(decoding: rest[1], as: UTF8.self)
            guard Int64(timestamp ?? "") != nil else { return nil }
        }
        return ExpositionSample(name: name, labels: labels, value: value, timestamp: timestamp)
    }

    static func isMetricName(_ name: String) -> Bool {
        func isStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c == ":" || ("a" ... "z").contains(c) || ("A" ... "Z").contains(c) }
        guard let first = name.unicodeScalars.first, isStart(first) else { return false }
        return name.unicodeScalars.allSatisfy { isStart($0) || ("0" ... "9").contains($0) }
    }

    /// A label value as written between quotes: `\`, `"` and newline escaped.
    static func escapeLabelValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            return value
        }
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// HELP text as written: `\` and newline escaped.
    static func escapeHelp(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// One worker's parsed exposition.
    struct Source: Sendable {
        var worker: String
        var families: [ExpositionFamily]
    }

    /// Merges the sources into one exposition: each family once (HELP and TYPE from the first source that has
    /// them), the samples of every source under it with `worker="NAME"` as the first label (a sample's own
    /// `worker` label is kept as `exported_worker`). A source whose family has another TYPE than the first
    /// source's is left out of that family (counted in `conflicts`), so the output always parses.
    static func aggregate(_ sources: [Source]) -> (text: String, conflicts: Int) {
        var order: [String] = []
        var merged: [String: (type: String, help: String?, lines: [String])] = [:]
        var conflicts = 0
        for source in sources {
            let worker = escapeLabelValue(source.worker)
            for family in source.families {
                if var entry = merged[family.name] {
                    guard entry.type == family.type else { conflicts += 1; continue }
                    if entry.help == nil { entry.help = family.help }
                    entry.lines.append(contentsOf: family.samples.map { render($0, worker: worker) })
                    merged[family.name] = entry
                } else {
                    order.append(family.name)
                    merged[family.name] = (family.type, family.help, family.samples.map { render($0, worker: worker) })
                }
            }
        }
        var text = ""
        for name in order {
            guard let entry = merged[name] else { continue }
            if let help = entry.help { text += "# HELP \(name) \(help)\n" }
            text += "# TYPE \(name) \(entry.type)\n"
            for line in entry.lines { text += line; text += "\n" }
        }
        return (text, conflicts)
    }

    /// A sample line with `worker` first; `escapedWorker` is already escaped.
    static func render(_ sample: ExpositionSample, worker escapedWorker: String) -> String {
        var line = sample.name + "{worker=\"" + escapedWorker + "\""
        for label in sample.labels {
            line += ","
            line += label.name == "worker" ? "exported_worker" : label.name
            line += "=\""
            line += escapeLabelValue(label.value)
            line += "\""
        }
        line += "} " + sample.value
        if let timestamp = sample.timestamp { line += " " + timestamp }
        return line
    }
}
