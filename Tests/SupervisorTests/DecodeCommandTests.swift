import Testing
@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

/// Argument handling of `supervisor decode`; the decoding itself is tested on `DecodeTool` in SharedTests.
@Suite struct DecodeCommandTests {
    @Test func acceptsExactlyOneInput() throws {
        let command = try DecodeCommand.parse(["--metadata", "m.scale", "--extrinsic", "0x00"])
        #expect(command.metadata == "m.scale")
        #expect(command.extrinsic == "0x00")
        #expect(throws: (any Error).self) { try DecodeCommand.parse(["--metadata", "m.scale"]) }
        #expect(throws: (any Error).self) { try DecodeCommand.parse(["--metadata", "m.scale", "--block", "b.json", "--events", "0x00"]) }
    }
}
