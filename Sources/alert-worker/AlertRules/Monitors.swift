import Foundation
import SubstrateRuntime
import SubstratePrimitives
import Store
import Wire
import WorkerRuntime

/// A list of UInt64 stored as one base64 string of little-endian bytes, so the persisted rule state stays small
/// and quick to encode (1,000 farmer counts, 100 slot samples) in the per-block transaction.
package struct PackedU64s: Sendable, Equatable, Codable {
    package var values: [UInt64]

    package init(_ values: [UInt64] = []) { self.values = values }

    package init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let data = Data(base64Encoded: text), data.count % 8 == 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not packed u64s"))
        }
        values = data.withUnsafeBytes { raw in
            (0 ..< data.count / 8).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        }
    }

    package func encode(to encoder: Encoder) throws {
        var data = Data(capacity: values.count * 8)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        var c = encoder.singleValueContainer()
        try c.encode(data.base64EncodedString())
    }
}

/// Which side of a threshold a status-change monitor last alerted on.
package enum MonitorStatus: String, Sendable, Codable, Equatable {
    case notAlerting, slow, fast, decrease, increase
}

/// Spec §3.2: seconds per slot over the last `window` best-fork blocks; alerts once per status change.
package struct SlotMonitor: Sendable, Equatable, Codable {
    /// Newest first: (slot + 1, chain time ms + 1); 0 encodes "absent".
    package var slots = PackedU64s()
    package var times = PackedU64s()
    package var status = MonitorStatus.notAlerting

    /// What a slot alert reports.
    package struct Reading: Sendable, Equatable {
        package var slotAmount: UInt64
        package var secondsElapsed: UInt64
        package var ratio: Double
        package var threshold: Double
        package var slow: Bool
    }

    /// A zero-second window: the original returned an error and restarted; here the block is skipped.
    package struct ZeroElapsed: Error, Sendable {}

    package mutating func check(slot: UInt64?, chainTime: UInt64?, mode: CanonicalMode, window: Int, slow: Double, fast: Double) -> Result<Reading?, ZeroElapsed> {
        slots.values.insert(slot.map { $0 &+ 1 } ?? 0, at: 0)
        times.values.insert(chainTime.map { $0 &+ 1 } ?? 0, at: 0)
        if slots.values.count > window { slots.values.removeLast(slots.values.count - window); times.values.removeLast(times.values.count - window) }
        guard mode != .startup, slots.values.count == window, window >= 1 else { return .success(nil) }
        let newestSlot = slots.values[0], oldestSlot = slots.values[window - 1]
        let newestTime = times.values[0], oldestTime = times.values[window - 1]
        guard newestSlot != 0, oldestSlot != 0, newestTime != 0, oldestTime != 0 else { return .success(nil) }
        let slotAmount = newestSlot >= oldestSlot ? newestSlot - oldestSlot : 0
        // ms → s first, then subtract (spec). ⚠ fixed: out-of-order times saturate instead of panicking.
        let newS = (newestTime - 1) / 1000, oldS = (oldestTime - 1) / 1000
        let seconds = newS >= oldS ? newS - oldS : 0
        if seconds == 0 { return .failure(ZeroElapsed()) }
        let ratio = Double(seconds) / Double(slotAmount)
        if ratio > slow {
            guard status != .slow else { return .success(nil) }
            status = .slow
            return .success(Reading(slotAmount: slotAmount, secondsElapsed: seconds, ratio: ratio, threshold: slow, slow: true))
        } else if ratio < fast {
            guard status != .fast else { return .success(nil) }
            status = .fast
            return .success(Reading(slotAmount: slotAmount, secondsElapsed: seconds, ratio: ratio, threshold: fast, slow: false))
        }
        status = .notAlerting
        return .success(nil)
    }
}

/// Spec §3.3: unique FarmerVote public keys over the last `inactive` heights against the average of the last
/// `history` counts; alerts once per status change. Runs in every mode, Startup included.
package struct FarmerMonitor: Sendable, Equatable, Codable {
    /// Farmer public key → height of its last vote.
    package var lastVote: [[UInt8]: UInt64] = [:]
    /// Newest first.
    package var history = PackedU64s()
    package var status = MonitorStatus.notAlerting

    /// What a farmer alert reports.
    package struct Reading: Sendable, Equatable {
        package var count: UInt64
        package var average: Double
        package var length: Int
        package var decreased: Bool
    }

    package enum CodingKeys: String, CodingKey { case lastVote, history, status }

    package init() {}

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        history = try c.decode(PackedU64s.self, forKey: .history)
        status = try c.decode(MonitorStatus.self, forKey: .status)
        let packed = try c.decode(String.self, forKey: .lastVote)
        guard let data = Data(base64Encoded: packed), data.count % 40 == 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.lastVote], debugDescription: "not packed votes"))
        }
        let bytes = [UInt8](data)
        for i in stride(from: 0, to: bytes.count, by: 40) {
            var h: UInt64 = 0
            for j in (0 ..< 8).reversed() { h = h << 8 | UInt64(bytes[i + 32 + j]) }
            lastVote[Array(bytes[i ..< i + 32])] = h
        }
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(history, forKey: .history)
        try c.encode(status, forKey: .status)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lastVote.count * 40)
        // Sorted so equal states encode to equal bytes.
        for (key, h) in lastVote.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            bytes += key
            withUnsafeBytes(of: h.littleEndian) { bytes += $0 }
        }
        try c.encode(Data(bytes).base64EncodedString(), forKey: .lastVote)
    }

    package mutating func check(height: UInt64, votes: [[UInt8]], inactive: Int, historySize: Int, minHistory: Int,
                        low: Double, high: Double) -> Reading? {
        for pk in votes { lastVote[pk] = height }
        let floor = height >= UInt64(inactive) ? height - UInt64(inactive) : 0
        lastVote = lastVote.filter { $0.value >= floor }
        let count = UInt64(lastVote.count)
        history.values.insert(count, at: 0)
        if history.values.count > historySize { history.values.removeLast(history.values.count - historySize) }
        guard history.values.count >= minHistory, !history.values.isEmpty else { return nil }
        let average = Double(history.values.reduce(0, +)) / Double(history.values.count)
        let fraction = Double(count) / average
        if fraction < low {
            guard status != .decrease else { return nil }
            status = .decrease
            return Reading(count: count, average: average, length: history.values.count, decreased: true)
        } else if fraction > high {
            guard status != .increase else { return nil }
            status = .increase
            return Reading(count: count, average: average, length: history.values.count, decreased: false)
        }
        status = .notAlerting // NaN (0/0) lands here too
        return nil
    }
}

/// Spec §4.2: resume / chain-time gap between consecutive best-fork blocks, once per status change.
package struct GapMonitor: Sendable, Equatable, Codable {
    package enum Status: String, Sendable, Codable { case localResume, chainResume, noAlert }
    package var status = Status.noAlert
    package var previous: BlockStamp?

    package enum Finding: Sendable, Equatable {
        case resumed(localGap: Int64, chainGap: Int64?, previous: BlockStamp)
        case chainGap(chainGap: Int64, previous: BlockStamp)
    }

    package static func needsNewAlert(_ old: Status, _ new: Status) -> Bool {
        !(new == old || new == .noAlert || (old == .localResume && new == .chainResume))
    }

    package mutating func check(_ block: BlockStamp, parentHash: [UInt8], resumeMs: Int64, chainGapMs: Int64) -> Finding? {
        defer { previous = block }
        guard let prev = previous else { return nil }
        // Spec §4.3: a previous block that is not the parent (reorg, first block after a gap in the stream) is
        // replaced by the parent as of now: local gap 0, chain time unknown.
        let linked = prev.hash == parentHash
        var localGap: Int64 = 0
        if linked, let now = block.localTime, let then = prev.localTime { localGap = Int64(now) - Int64(then) }
        var chainGap: Int64?
        if linked, let a = block.chainTime, let b = prev.chainTime { chainGap = Int64(a) - Int64(b) }
        if localGap >= resumeMs {
            if Self.needsNewAlert(status, .localResume) { status = .localResume; return .resumed(localGap: localGap, chainGap: chainGap, previous: prev) }
        } else if let chainGap, chainGap >= chainGapMs {
            if Self.needsNewAlert(status, .chainResume) { status = .chainResume; return .chainGap(chainGap: chainGap, previous: prev) }
        } else {
            status = .noAlert
        }
        return nil
    }
}

/// Per-node stall detection (spec §4.1, for every node, ⚠ race fixed): a node that has not shown a higher block
/// for `stall` after its last one alerts once; any higher block clears the stall at once, so a second stall
/// right after a resume alerts too. An isolated node's stall is suppressed while it is isolated.
package struct StallMonitor: Sendable, Equatable, Codable {
    /// One node's view.
    package struct NodeState: Sendable, Equatable, Codable {
        package var height: UInt64
        package var hash: [UInt8]
        package var seenAt: UInt64
        /// The stall alert id while a stall is open.
        package var openStall: String?
        package var isolated = false
    }

    package var nodes: [String: NodeState] = [:]

    /// A block (or best height) seen on `node`. Returns the stall that this closes, if one was open.
    package mutating func observe(node: String, height: UInt64, hash: [UInt8], at ms: UInt64) -> (stalled: NodeState, gapMs: UInt64)? {
        guard var state = nodes[node] else {
            nodes[node] = NodeState(height: height, hash: hash, seenAt: ms)
            return nil
        }
        guard height > state.height else { return nil } // heights, not hashes, as in the original
        let closed = state.openStall != nil ? state : nil
        let gap = ms >= state.seenAt ? ms - state.seenAt : 0
        state.height = height
        state.hash = hash
        state.seenAt = ms
        state.openStall = nil
        nodes[node] = state
        return closed.map { ($0, gap) }
    }

    /// Nodes whose stall begins now (each returned once per stall).
    package mutating func tick(now ms: UInt64, stallMs: UInt64) -> [(node: String, state: NodeState, gapMs: UInt64)] {
        var found: [(String, NodeState, UInt64)] = []
        for (node, state) in nodes.sorted(by: { $0.key < $1.key }) where state.openStall == nil && !state.isolated {
            guard ms >= state.seenAt, ms - state.seenAt >= stallMs else { continue }
            found.append((node, state, ms - state.seenAt))
        }
        return found
    }

    package mutating func setIsolated(_ node: String, _ isolated: Bool) {
        nodes[node]?.isolated = isolated
    }
}

/// Side-fork re-alert bookkeeping: alert at the threshold depth, then at every multiple of the period, once each,
/// even when the fork-worker reports depths with gaps.
package struct SideForkBook: Sendable, Equatable, Codable {
    /// Fork point hash (hex) → the highest alert step already raised (0 = threshold, n = n × period).
    package var alerted: [String: Int] = [:]
    /// Fork points in insertion order, so the book stays bounded.
    package var order: [String] = []

    package static func step(depth: Int, threshold: Int, period: Int) -> Int? {
        guard depth >= threshold else { return nil }
        guard period > 0, depth >= period, depth > threshold else { return 0 }
        return depth / period
    }

    package mutating func shouldAlert(forkPoint: String, depth: Int, threshold: Int, period: Int) -> Bool {
        guard let s = Self.step(depth: depth, threshold: threshold, period: period) else { return false }
        if let done = alerted[forkPoint], done >= s { return false }
        if alerted[forkPoint] == nil { order.append(forkPoint) }
        alerted[forkPoint] = s
        if order.count > 256 { alerted[order.removeFirst()] = nil }
        return true
    }
}
