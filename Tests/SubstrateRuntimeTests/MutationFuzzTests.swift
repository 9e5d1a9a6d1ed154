import Foundation
import Testing
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

/// Mutation fuzzing: mutants of real headers, extrinsics and events (or, without the data set, of values encoded
/// here) are decoded; a typed error is fine, a crash or hang is not. Runs `CHAIN_ALERTER_FUZZ_MUTANTS` mutants
/// (default 1,000,000) split across two tasks.
@Suite struct MutationFuzzTests {
    enum Target: Sendable {
        case header
        case extrinsic(RuntimeMetadata)
        case events(RuntimeMetadata)
        case value(TypeRegistry, Int)
    }

    struct Seed: Sendable {
        let target: Target
        let bytes: [UInt8]
        /// Relative frequency; large inputs (events vectors) are drawn less often to keep the run time bounded.
        let weight: Int
    }

    /// Deterministic generator so a failure is reproducible from the printed task seed.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    static func seeds() throws -> [Seed] {
        var seeds: [Seed] = []
        if Conformance.isAvailable {
            for file in Conformance.blockFiles {
                let block = try ConformanceBlock(file)
                let metadata = try Conformance.metadata(block.metadataFile)
                seeds.append(Seed(target: .header, bytes: block.headerBytes, weight: 8))
                for x in block.extrinsics {
                    seeds.append(Seed(target: .extrinsic(metadata), bytes: x, weight: x.count > 4096 ? 1 : 16))
                }
                if let events = block.events {
                    seeds.append(Seed(target: .events(metadata), bytes: events, weight: 1))
                }
            }
        }
        // Values encoded here, so the test is never vacuous without the data set.
        let registry = DynamicCodecTests.registry
        let own: [(Int, String)] = [(9, "0x0105000000"), (10, "0x010c616263"), (11, "0x0100000001"), (12, "0x33" + String(repeating: "ff", count: 16)),
                                    (13, "0x240d01"), (14, "0x0c000000a0"), (15, "0x2a00000008abcd"), (16, "0x080100000002000000"),
                                    (18, "0x37" + String(repeating: "00", count: 16) + "01"), (22, "0x0404040400"), (3, "0x" + String(repeating: "ab", count: 32))]
        for (typeId, hex) in own {
            if let bytes = Hex.decode(hex) { seeds.append(Seed(target: .value(registry, typeId), bytes: bytes, weight: 4)) }
        }
        var header = ScaleWriter()
        header.writeBytes([UInt8](repeating: 7, count: 32))
        header.writeCompact(UInt64(1234))
        header.writeBytes([UInt8](repeating: 8, count: 64))
        header.writeCompact(UInt64(2))
        header.writeBytes([6] + Array("SUB_".utf8))
        header.writeByteVector([0] + [UInt8](repeating: 1, count: 8))
        header.writeBytes([5] + Array("SUB_".utf8))
        header.writeByteVector([UInt8](repeating: 2, count: 64))
        seeds.append(Seed(target: .header, bytes: header.bytes, weight: 4))
        return seeds
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        let rounds = Int.random(in: 1 ... 3, using: &rng)
        for _ in 0 ..< rounds {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0 ..< bytes.count, using: &rng)
            switch Int.random(in: 0 ..< 8, using: &rng) {
            case 0 where !bytes.isEmpty: // bit flip
                bytes[position] ^= 1 << UInt8.random(in: 0 ..< 8, using: &rng)
            case 1 where !bytes.isEmpty: // byte replacement, biased to boundary values
                bytes[position] = [0x00, 0xff, 0x7f, 0x80, 0x03, 0xfc, UInt8.random(in: 0 ... 255, using: &rng)].randomElement(using: &rng) ?? 0
            case 2: // truncation
                bytes.removeSubrange(min(position, bytes.count)...)
            case 3: // insertion
                let count = Int.random(in: 1 ... 8, using: &rng)
                bytes.insert(contentsOf: (0 ..< count).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }, at: min(position, bytes.count))
            case 4 where !bytes.isEmpty: // length-prefix inflation: plant a large compact where a length may be read
                let big: [[UInt8]] = [[0xfe, 0xff, 0xff, 0xff], [0x03, 0xff, 0xff, 0xff, 0xff], [0x13] + [UInt8](repeating: 0xff, count: 8), [0xfd, 0xff]]
                let planted = big.randomElement(using: &rng) ?? [0xfe]
                for (i, b) in planted.enumerated() where position + i < bytes.count { bytes[position + i] = b }
            case 5 where bytes.count > 2: // deletion of a range
                let end = min(bytes.count, position + Int.random(in: 1 ... 16, using: &rng))
                bytes.removeSubrange(position ..< end)
            case 6 where bytes.count > 2: // duplicate a chunk
                let end = min(bytes.count, position + Int.random(in: 1 ... 32, using: &rng))
                bytes.insert(contentsOf: bytes[position ..< end], at: end)
            default: // inflate the leading length prefix of the whole input
                if !bytes.isEmpty { bytes[0] = bytes[0] | 0b11 }
            }
        }
        return bytes
    }

    /// Decodes one mutant; returns true if it decoded. Any thrown error is typed (`ScaleError`) by construction.
    static func decode(_ target: Target, _ bytes: [UInt8]) -> Bool {
        do {
            switch target {
            case .header:
                let header = try BlockHeader(scale: bytes)
                _ = header.encoded
            case .extrinsic(let metadata):
                let x = try metadata.decodeExtrinsic(bytes)
                _ = try? metadata.encodeExtrinsic(x)
                _ = NormalizedJSON.extrinsic(x, index: 0)
            case .events(let metadata):
                let events = try metadata.decodeEvents(bytes)
                _ = try? metadata.encodeEvents(events)
            case .value(let registry, let typeId):
                let value = try registry.decode(typeId, from: bytes)
                _ = try? registry.encode(value, as: typeId)
                _ = NormalizedJSON.value(value)
            }
            return true
        } catch {
            return false
        }
    }

    /// Metadata is outside input too: mutated and truncated blobs must give a `MetadataError`, never a crash.
    @Test(.enabled(if: Conformance.isAvailable, "conformance data set not present"))
    func metadataMutantsNeverCrash() throws {
        let blob = try Conformance.bytes("metadata/chronos_spec6_v14.scale")
        var rng = SplitMix64(state: 0xFEED)
        var rejected = 0
        let count = 2000
        for n in 0 ..< count {
            var mutant = blob
            if n % 4 == 0 {
                mutant.removeSubrange(Int.random(in: 0 ..< mutant.count, using: &rng)...)
            } else {
                for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
                    mutant[Int.random(in: 0 ..< mutant.count, using: &rng)] = UInt8.random(in: 0 ... 255, using: &rng)
                }
            }
            do {
                let metadata = try RuntimeMetadata(bytes: mutant)
                // A mutant that still parses must still be safe to use.
                if let events = metadata.eventsTypeId { _ = try? metadata.registry.decode(events, from: [4, 0, 0]) }
            } catch {
                rejected += 1
            }
        }
        print("metadata fuzz: \(count) mutated metadata blobs parsed or rejected without a crash (\(rejected) rejected)")
        #expect(throws: MetadataError.badMagic) { try RuntimeMetadata(bytes: Array("0x6d657461".utf8)) }
        #expect(throws: MetadataError.unsupportedVersion(16)) { try RuntimeMetadata(bytes: [0x6d, 0x65, 0x74, 0x61, 16]) }
    }

    @Test func mutantsNeverCrash() async throws {
        let total = Int(ProcessInfo.processInfo.environment["CHAIN_ALERTER_FUZZ_MUTANTS"] ?? "") ?? 1_000_000
        let seeds = try Self.seeds()
        #expect(!seeds.isEmpty)
        // Weighted seed table: index list repeated by weight.
        let table = seeds.indices.flatMap { [Int](repeating: $0, count: seeds[$0].weight) }
        let workers = 2
        let started = Date()
        // Dedicated threads, not the cooperative pool: a million decodes on the pool's two threads would
        // starve every other async test running in parallel in this process.
        let results: (ran: Int, decoded: Int) = await withCheckedContinuation { continuation in
            let tally = FuzzTally(workers: workers) { continuation.resume(returning: $0) }
            for worker in 0 ..< workers {
                let share = total / workers + (worker < total % workers ? 1 : 0)
                let thread = Thread {
                    // SCHED_IDLE (5 on Linux; the macro is not imported): on a loaded machine the fuzz
                    // takes only the CPU that no timing-sensitive test in this run wants.
                    var parameters = sched_param()
                    _ = sched_setscheduler(0, 5, &parameters)
                    var rng = SplitMix64(state: 0xC0DEC + UInt64(worker))
                    var decoded = 0
                    for _ in 0 ..< share {
                        let seed = seeds[table[Int.random(in: 0 ..< table.count, using: &rng)]]
                        if Self.decode(seed.target, Self.mutate(seed.bytes, &rng)) { decoded += 1 }
                    }
                    tally.add(ran: share, decoded: decoded)
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
        }
        let seconds = Date().timeIntervalSince(started)
        print("mutation fuzz: \(results.ran) mutants from \(seeds.count) seeds ran without a crash in \(String(format: "%.1f", seconds)) s; \(results.decoded) still decoded, \(results.ran - results.decoded) gave a typed error")
        #expect(results.ran == total)
    }
}

/// Sums the fuzz threads' results and reports once the last one is done.
private final class FuzzTally: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int
    private var ran = 0
    private var decoded = 0
    private let done: @Sendable ((ran: Int, decoded: Int)) -> Void

    init(workers: Int, done: @escaping @Sendable ((ran: Int, decoded: Int)) -> Void) {
        remaining = workers
        self.done = done
    }

    func add(ran: Int, decoded: Int) {
        lock.lock()
        self.ran += ran
        self.decoded += decoded
        remaining -= 1
        let finished = remaining == 0 ? (self.ran, self.decoded) : nil
        lock.unlock()
        if let finished { done(finished) }
    }
}
