import SubstratePrimitives

/// alert-worker → notifier (PUSH): new alert rows are committed; the notifier reads them from the store.
public struct AlertDoorbell: ScaleBusMessage, Equatable {
    public static var messageType: MessageType { .alertDoorbell }

    /// The highest committed alert row id; the notifier delivers everything up to it.
    public var highestRowID: Int64
    /// How many rows the transaction added (for logs and metrics only).
    public var newRows: UInt32

    public init(highestRowID: Int64, newRows: UInt32) {
        self.highestRowID = highestRowID
        self.newRows = newRows
    }

    public func encode(scale writer: inout ScaleWriter) {
        writer.writeU64(UInt64(bitPattern: highestRowID))
        writer.writeU32(newRows)
    }

    public init(scale reader: inout ScaleReader) throws(ScaleError) {
        highestRowID = Int64(bitPattern: try reader.readU64("AlertDoorbell.highestRowID"))
        newRows = try reader.readU32("AlertDoorbell.newRows")
    }
}

/// node-watcher → supervisor and fork-worker: the health of the watcher's node connection.
