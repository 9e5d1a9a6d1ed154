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

        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            if line.hasPrefix("#") {
                let parts = line.dropFirst().split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
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
            guard let sample = parseSample(line) else { rejected += 1; continue }
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
        let scalars = Array(line.unicodeScalars)
        var i = 0
        func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c == ":" || ("a" ... "z").contains(c) || ("A" ... "Z").contains(c) }
        func isNameChar(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || ("0" ... "9").contains(c) }
        guard i < scalars.count, isNameStart(scalars[i]) else { return nil }
        var name = String.UnicodeScalarView()
        while i < scalars.count, isNameChar(scalars[i]) { name.append(scalars[i]); i += 1 }
        var labels: [ExpositionSample.Label] = []
        if i < scalars.count, scalars[i] == "{" {
            i += 1
            while true {
                while i < scalars.count, scalars[i] == " " { i += 1 }
                guard i < scalars.count else { return nil }
                if scalars[i] == "}" { i += 1; break }
                guard isNameStart(scalars[i]), scalars[i] != ":" else { return nil }
                var labelName = String.UnicodeScalarView()
                while i < scalars.count, isNameChar(scalars[i]), scalars[i] != ":" { labelName.append(scalars[i]); i += 1 }
                while i < scalars.count, scalars[i] == " " { i += 1 }
                guard i < scalars.count, scalars[i] == "=" else { return nil }
                i += 1
                while i < scalars.count, scalars[i] == " " { i += 1 }
                guard i < scalars.count, scalars[i] == "\"" else { return nil }
                i += 1
                var value = String.UnicodeScalarView()
                var closed = false
                while i < scalars.count {
                    let c = scalars[i]
                    if c == "\\" {
                        guard i + 1 < scalars.count else { return nil }
                        switch scalars[i + 1] {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: return nil
                        }
                        i += 2
                        continue
                    }
                    if c == "\"" { closed = true; i += 1; break }
                    if c == "\n" { return nil }
                    value.append(c)
                    i += 1
                }
                guard closed else { return nil }
                labels.append(.init(name: String(labelName), value: String(value)))
                while i < scalars.count, scalars[i] == " " { i += 1 }
                guard i < scalars.count else { return nil }
                if scalars[i] == "," { i += 1; continue }
                if scalars[i] == "}" { i += 1; break }
                return nil
            }
        }
        guard i < scalars.count, scalars[i] == " " || scalars[i] == "\t" else { return nil }
        let rest = String(String.UnicodeScalarView(scalars[i...])).split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard rest.count == 1 || rest.count == 2 else { return nil }
        let value = String(rest[0])
        guard ExpositionSample.parseNumber(value) != nil else { return nil }
        if rest.count == 2 { guard Int64(rest[1]) != nil else { return nil } }
        return ExpositionSample(name: String(name), labels: labels, value: value, timestamp: rest.count == 2 ? String(rest[1]) : nil)
    }

    static func isMetricName(_ name: String) -> Bool {
        func isStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c == ":" || ("a" ... "z").contains(c) || ("A" ... "Z").contains(c) }
        guard let first = name.unicodeScalars.first, isStart(first) else { return false }
        return name.unicodeScalars.allSatisfy { isStart($0) || ("0" ... "9").contains($0) }
    }

    /// A label value as written between quotes: `\`, `"` and newline escaped.
    static func escapeLabelValue(_ value: String) -> String {
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
