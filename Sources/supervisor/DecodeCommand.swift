import ArgumentParser
import Foundation
import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// `supervisor decode`: decodes a block, extrinsic or events value with runtime metadata and prints normalized JSON.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode SCALE data (block, extrinsic or events) with runtime metadata and print JSON."
    )

    @Option(name: .long, help: "Raw runtime metadata file ('meta' magic, V14 or V15).")
    var metadata: String

    @Option(name: .long, help: "Block JSON file with header_scale, extrinsics and events_storage_hex.")
    var block: String?

    @Option(name: .long, help: "One extrinsic as 0x-hex, including its length prefix.")
    var extrinsic: String?

    @Option(name: .long, help: "A System.Events storage value as 0x-hex.")
    var events: String?

    @Flag(name: .long, help: "Indent the JSON output.")
    var pretty = false

    func validate() throws {
        let given = [block, extrinsic, events].compactMap { $0 }.count
        if given != 1 {
            throw ValidationError("pass exactly one of --block, --extrinsic or --events")
        }
    }

    func run() throws {
        let metadataBytes: [UInt8]
        do {
            metadataBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: metadata)))
        } catch {
            throw ValidationError("cannot read metadata file \(metadata): \(error.localizedDescription)")
        }
        let input: DecodeTool.Input
        if let block {
            do {
                input = .blockJSON([UInt8](try Data(contentsOf: URL(fileURLWithPath: block))))
            } catch {
                throw ValidationError("cannot read block file \(block): \(error.localizedDescription)")
            }
        } else if let extrinsic {
            input = .extrinsicHex(extrinsic)
        } else {
            input = .eventsHex(events ?? "")
        }
        do {
            let runtime = try DecodeTool.metadata(from: metadataBytes)
            let output = try DecodeTool.decode(input, metadata: runtime)
            print(output.rendered(pretty: pretty))
        } catch {
            FileHandle.standardError.write(Data("decode: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
