import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// Converts the node's JSON header (`parentHash`, `number`, roots, `digest.logs`) to its SCALE bytes.
enum HeaderJSON {
    static func encode(_ json: JSONValue) throws(WatcherError) -> [UInt8] {
        guard case .string(let parentHex)? = json["parentHash"], let parent = Hex.decode(parentHex), parent.count == 32,
              case .string(let numberHex)? = json["number"], numberHex.hasPrefix("0x"), let number = UInt64(numberHex.dropFirst(2), radix: 16),
              case .string(let stateHex)? = json["stateRoot"], let stateRoot = Hex.decode(stateHex), stateRoot.count == 32,
              case .string(let extrinsicsHex)? = json["extrinsicsRoot"], let extrinsicsRoot = Hex.decode(extrinsicsHex), extrinsicsRoot.count == 32,
              case .array(let logs)? = json["digest"]?["logs"] else {
            throw .invalidHeader("missing or malformed parentHash/number/stateRoot/extrinsicsRoot/digest.logs")
        }
        var w = ScaleWriter(capacity: 160)
        w.writeBytes(parent)
        w.writeCompact(number)
        w.writeBytes(stateRoot)
        w.writeBytes(extrinsicsRoot)
        w.writeCompact(UInt64(logs.count))
        for log in logs {
            guard case .string(let hex) = log, let bytes = Hex.decode(hex) else { throw .invalidHeader("a digest log is not hex") }
            w.writeBytes(bytes)
        }
        return w.bytes
    }
}


/// The parts of `system_properties` that identify a network. Nodes report `tokenDecimals`/`tokenSymbol` as a
/// value or as an array (multi-token chains); the first entry counts.
