import ArgumentParser
import BSVAlert
import Foundation

/// `supervisor alert-system`: operator tools for the Bitcoin SV alert-system.
struct AlertSystemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alert-system",
        abstract: "Bitcoin SV alert-system tools.",
        subcommands: [AlertSystemInspectCommand.self]
    )
}

/// `supervisor alert-system inspect --raw HEX [--keys mainnet|testnet|stn|local|FILE]`: parses and verifies one
/// raw alert and prints one JSON verdict. Exit 0 whenever a verdict is printed, valid or not.
struct AlertSystemInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Parse and verify one raw alert-system message; print what it says, who signed it and whether it is valid, as JSON.",
        discussion: "Exit codes: 0 a verdict was printed (valid or not), 65 the input is not hex, 78 the key set cannot be loaded."
    )

    @Option(name: .long, help: "The raw message (data followed by its signatures) in hex, as gossiped.")
    var raw: String

    @Option(name: .long, help: "The active key set: mainnet, testnet, stn, local (the reference's genesis keys), or a file with one compressed public key in hex per line.")
    var keys: String = "mainnet"

    /// Why inspect printed no verdict.
    enum InspectError: Error, CustomStringConvertible {
        case notHex(String)
        case keyFile(path: String, reason: String)

        var description: String {
            switch self {
            case .notHex(let detail): "--raw is not hex: \(detail)"
            case .keyFile(let path, let reason): "--keys \(path): \(reason)"
            }
        }

        var exitCode: Int32 {
            switch self {
            case .notHex: 65
            case .keyFile: 78
            }
        }
    }

    func run() throws {
        do {
            print(try Self.verdict(rawHex: raw, keys: keys))
        } catch {
            FileHandle.standardError.write(Data("alert-system inspect: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        }
    }

    /// The JSON verdict for `rawHex` against the named key set (or key file).
    static func verdict(rawHex: String, keys: String) throws(InspectError) -> String {
        var text = Substring(rawHex.trimmingCharacters(in: .whitespacesAndNewlines))
        if text.hasPrefix("0x") || text.hasPrefix("0X") { text = text.dropFirst(2) }
        guard let bytes = HexEncoding.decode(text) else {
            let reason = text.count % 2 == 1 ? "odd number of digits (\(text.count))" : "a character that is not a hex digit"
            throw .notHex(reason)
        }
        return AlertInspection(raw: bytes, keys: try keySet(keys)).json.rendered
    }

    static func keySet(_ name: String) throws(InspectError) -> AlertKeySet {
        if let network = AlertNetwork(rawValue: name) { return AlertKeySet.genesis(network) }
        let contents: String
        do { contents = try String(contentsOfFile: name, encoding: .utf8) } catch {
            throw .keyFile(path: name, reason: "not a network name (mainnet, testnet, stn, local) and not a readable file: \(error.localizedDescription)")
        }
        do { return try AlertKeySet(keyFileContents: contents) } catch { throw .keyFile(path: name, reason: error.description) }
    }
}
