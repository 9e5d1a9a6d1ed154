import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// The parts of `system_properties` that identify a network. Nodes report `tokenDecimals`/`tokenSymbol` as a
/// value or as an array (multi-token chains); the first entry counts.
struct ChainProperties: Sendable, Equatable {
    var ss58Format: UInt16?
    var tokenDecimals: UInt8?
    var tokenSymbol: String?

    init(_ json: JSONValue) {
        func first(_ value: JSONValue?) -> JSONValue? {
            if case .array(let items)? = value { return items.first }
            return value
        }
        if case .integer(let v)? = json["ss58Format"], let f = UInt16(exactly: v) { ss58Format = f }
        if case .integer(let v)? = first(json["tokenDecimals"]), let d = UInt8(exactly: v) { tokenDecimals = d }
        if case .string(let s)? = first(json["tokenSymbol"]) { tokenSymbol = s }
    }
}
