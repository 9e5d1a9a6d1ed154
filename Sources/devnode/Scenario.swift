import Foundation
import TOMLKit

/// What the devnode simulates: history, live production, scripted extrinsics/events, forks, stalls,
/// several nodes and injected faults. Loaded from TOML or JSON (keys in snake_case).
struct Scenario: Codable, Sendable, Equatable {
    /// A node of the simulated network: its own listener, notifications delayed by `delayMilliseconds`
    /// and held back by `lagBlocks` blocks (until the chain reaches `lagUntil`, when it catches up); RPC answers
    /// delayed by `rpcDelayMilliseconds` (from height `rpcDelayFrom` until `rpcDelayUntil`, when given); the
    /// node stops (listener closed, connections dropped, as if killed) when the chain reaches `stopAt`.
    struct Node: Codable, Sendable, Equatable {
        var name: String
        var delayMilliseconds: Int?
        var lagBlocks: Int?
        var lagUntil: UInt64?
        var rpcDelayMilliseconds: Int?
        var rpcDelayFrom: UInt64?
        var rpcDelayUntil: UInt64?
        var stopAt: UInt64?
        enum CodingKeys: String, CodingKey {
            case name, delayMilliseconds = "delay_ms", lagBlocks = "lag_blocks", lagUntil = "lag_until"
            case rpcDelayMilliseconds = "rpc_delay_ms", rpcDelayFrom = "rpc_delay_from", rpcDelayUntil = "rpc_delay_until", stopAt = "stop_at"
        }

        init(name: String, delayMilliseconds: Int? = nil, lagBlocks: Int? = nil, lagUntil: UInt64? = nil, rpcDelayMilliseconds: Int? = nil,
             rpcDelayFrom: UInt64? = nil, rpcDelayUntil: UInt64? = nil, stopAt: UInt64? = nil) {
            self.name = name
            self.delayMilliseconds = delayMilliseconds
            self.lagBlocks = lagBlocks
            self.lagUntil = lagUntil
            self.rpcDelayMilliseconds = rpcDelayMilliseconds
            self.rpcDelayFrom = rpcDelayFrom
            self.rpcDelayUntil = rpcDelayUntil
            self.stopAt = stopAt
        }
    }

    /// Something scripted into the canonical block at `at`.
    struct Action: Codable, Sendable, Equatable {
        /// sudo, large_transfer, transfer, force_transfer, important_transfer, farmer_votes,
        /// operator_slashed, operator_offline, runtime_upgrade
        var kind: String
        var at: UInt64
        /// Transfer amount in AI3 (whole tokens); defaults per kind.
        var amount: UInt64?
        /// How many (farmer votes).
        var count: Int?
    }

    /// A side fork (`reorg = false`: announced on all-heads only) or a reorg (the new branch becomes best).
    struct Fork: Codable, Sendable, Equatable {
        var at: UInt64
        /// Blocks on the new branch (a reorg: canonical blocks replaced).
        var length: Int
        var reorg: Bool?
        /// A reorg whose new branch is this many blocks shorter than the blocks it replaces, so the best
        /// height goes down (a backwards reorg); must be below `length`.
        var backwards: Int?
        /// A side fork seen by this node only (its all-heads); the other nodes never announce it.
        var node: String?

        init(at: UInt64, length: Int, reorg: Bool? = nil, backwards: Int? = nil, node: String? = nil) {
            self.at = at
            self.length = length
            self.reorg = reorg
            self.backwards = backwards
            self.node = node
        }
    }

    /// Production pauses after block `at` for `durationMilliseconds`.
    struct Stall: Codable, Sendable, Equatable {
        var at: UInt64
        var durationMilliseconds: Int
        enum CodingKeys: String, CodingKey { case at, durationMilliseconds = "duration_ms" }
    }

    /// A protocol fault sent to every connection (or one node's) when block `at` is produced.
    struct Fault: Codable, Sendable, Equatable {
        var at: UInt64
        /// malformed_json, truncated_scale, oversized_frame, drop_connection, unknown_notification, rpc_error,
        /// ignore_request (the next request is never answered)
        var kind: String
        var node: String?
        /// Bytes of an oversized frame.
        var size: Int?
    }

    var name: String
    /// Blocks produced at start-up, before live production (genesis excluded).
    var history: Int
    var blockIntervalMilliseconds: Int
    /// Live production starts this long after the devnode starts (so that watchers started after it see every
    /// block announced; tests on a loaded machine).
    var startDelayMilliseconds: Int?
    /// The last block produced; nil = produce forever.
    var endAt: UInt64?
    var specVersion: UInt32?
    var nodes: [Node]?
    var actions: [Action]?
    var forks: [Fork]?
    var stalls: [Stall]?
    var faults: [Fault]?

    enum CodingKeys: String, CodingKey {
        case name, history, blockIntervalMilliseconds = "block_interval_ms", endAt = "end_at", specVersion = "spec_version"
        case startDelayMilliseconds = "start_delay_ms"
        case nodes, actions, forks, stalls, faults
    }

    init(name: String, history: Int, blockIntervalMilliseconds: Int, endAt: UInt64? = nil, specVersion: UInt32? = nil,
         nodes: [Node]? = nil, actions: [Action]? = nil, forks: [Fork]? = nil, stalls: [Stall]? = nil, faults: [Fault]? = nil) {
        self.name = name
        self.history = history
        self.blockIntervalMilliseconds = blockIntervalMilliseconds
        self.endAt = endAt
        self.specVersion = specVersion
        self.nodes = nodes
        self.actions = actions
        self.forks = forks
        self.stalls = stalls
        self.faults = faults
    }

    static let actionKinds: Set<String> = ["sudo", "large_transfer", "transfer", "force_transfer", "important_transfer", "farmer_votes",
                                            "operator_slashed", "operator_offline", "runtime_upgrade"]
    static let faultKinds: Set<String> = ["malformed_json", "truncated_scale", "oversized_frame", "drop_connection",
                                           "unknown_notification", "rpc_error", "ignore_request"]

    /// Parses TOML (or JSON when the text starts with `{`) and checks every kind and number.
    static func parse(_ text: String) throws(ScenarioError) -> Scenario {
        let scenario: Scenario
        do {
            if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
                scenario = try JSONDecoder().decode(Scenario.self, from: Data(text.utf8))
            } else {
                scenario = try TOMLDecoder().decode(Scenario.self, from: text)
            }
        } catch {
            throw ScenarioError(problem: "cannot read the scenario: \(error)")
        }
        try scenario.validate()
        return scenario
    }

    static func load(path: String) throws(ScenarioError) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(problem: "cannot read scenario file \(path)")
        }
        return try parse(text)
    }

    func validate() throws(ScenarioError) {
        if history < 0 || history > 1_000_000 { throw ScenarioError(problem: "history must be 0...1000000 blocks") }
        if blockIntervalMilliseconds < 1 { throw ScenarioError(problem: "block_interval_ms must be at least 1") }
        for node in nodes ?? [] {
            if (node.lagBlocks ?? 0) < 0 || (node.delayMilliseconds ?? 0) < 0 || (node.rpcDelayMilliseconds ?? 0) < 0 {
                throw ScenarioError(problem: "node \(node.name): lag_blocks, delay_ms and rpc_delay_ms must not be negative")
            }
            if node.lagUntil != nil && node.lagBlocks == nil {
                throw ScenarioError(problem: "node \(node.name): lag_until needs lag_blocks")
            }
            if (node.rpcDelayFrom != nil || node.rpcDelayUntil != nil) && node.rpcDelayMilliseconds == nil {
                throw ScenarioError(problem: "node \(node.name): rpc_delay_from/rpc_delay_until need rpc_delay_ms")
            }
        }
        for action in actions ?? [] where !Self.actionKinds.contains(action.kind) {
            throw ScenarioError(problem: "unknown action kind '\(action.kind)'; known: \(Self.actionKinds.sorted().joined(separator: ", "))")
        }
        for fault in faults ?? [] where !Self.faultKinds.contains(fault.kind) {
            throw ScenarioError(problem: "unknown fault kind '\(fault.kind)'; known: \(Self.faultKinds.sorted().joined(separator: ", "))")
        }
        for fork in forks ?? [] where fork.length < 1 || UInt64(fork.length) >= fork.at {
            throw ScenarioError(problem: "fork at \(fork.at): length must be at least 1 and below its height")
        }
        for fork in forks ?? [] {
            if let backwards = fork.backwards, !(fork.reorg ?? false) || backwards < 1 || backwards >= fork.length {
                throw ScenarioError(problem: "fork at \(fork.at): backwards needs reorg = true and must be between 1 and length - 1")
            }
            if let node = fork.node {
                if fork.reorg ?? false { throw ScenarioError(problem: "fork at \(fork.at): node applies to side forks only (reorg = false)") }
                if !(nodes ?? []).contains(where: { $0.name == node }) {
                    throw ScenarioError(problem: "fork at \(fork.at): no node named '\(node)' in [[nodes]]")
                }
            }
        }
    }

    /// The scenario `supervisor demo` runs: a short history, a block every 500 ms, a sudo call, a large
    /// transfer, farmer votes, a side fork, a reorg, a short stall, then the end (about 25 s).
    static let bundledDemo = """
    name = "demo"
    history = 30
    block_interval_ms = 500
    end_at = 70

    [[nodes]]
    name = "devnode-0"

    [[actions]]
    kind = "farmer_votes"
    at = 33
    count = 3

    [[actions]]
    kind = "sudo"
    at = 35

    [[actions]]
    kind = "large_transfer"
    at = 38
    amount = 2000000

    [[actions]]
    kind = "force_transfer"
    at = 40

    [[actions]]
    kind = "farmer_votes"
    at = 42
    count = 4

    [[actions]]
    kind = "operator_slashed"
    at = 44

    [[forks]]
    at = 46
    length = 2

    [[forks]]
    at = 52
    length = 3
    reorg = true

    [[stalls]]
    at = 58
    duration_ms = 3000
    """
}

/// A scenario that cannot be used; the message says what to change.
struct ScenarioError: Error, Sendable, CustomStringConvertible {
    var problem: String
    var description: String { "scenario: \(problem)" }
}
