import Foundation
import SubstrateRuntime
import SubstratePrimitives
import Store
import Wire
import WorkerRuntime

/// The role an account plays in an extrinsic or event (spec §1.1/§1.2); the order is the display order.
package enum AccountRole: Int, Comparable, Sendable {
    case signer = 0, sender = 1, receiver = 2

    package var label: String {
        switch self {
        case .signer: "Signer"
        case .sender: "Sender"
        case .receiver: "Receiver"
        }
    }

    package static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// The accounts of an extrinsic or event, by role, without duplicates.
package struct RoleAccounts: Sendable {
    package private(set) var entries: [(role: AccountRole, account: [UInt8])] = []

    package mutating func add(_ role: AccountRole, _ account: [UInt8]?) {
        guard let account, !entries.contains(where: { $0.role == role && $0.account == account }) else { return }
        entries.append((role, account))
    }

    package var isEmpty: Bool { entries.isEmpty }

    /// `Role: a, b, Role2: c`, roles Signer < Sender < Receiver. `names` picks important kinds (alphabetical) or
    /// all accounts (by raw bytes, SS58 with the important name in parentheses).
    package func kindsText(_ network: AlertNetwork) -> String {
        var groups: [String] = []
        for role in [AccountRole.signer, .sender, .receiver] {
            let names = Set(entries.filter { $0.role == role }.compactMap { network.importantName($0.account) }).sorted()
            if !names.isEmpty { groups.append("\(role.label): \(names.joined(separator: ", "))") }
        }
        return groups.joined(separator: ", ")
    }

    package func accountsText(_ network: AlertNetwork) -> String {
        var groups: [String] = []
        for role in [AccountRole.signer, .sender, .receiver] {
            let accounts = entries.filter { $0.role == role }.map(\.account).sorted { $0.lexicographicallyPrecedes($1) }
            guard !accounts.isEmpty else { continue }
            let shown = accounts.map { a in
                network.importantName(a).map { "\(network.address(a)) (\($0))" } ?? network.address(a)
            }
            groups.append("\(role.label): \(shown.joined(separator: ", "))")
        }
        return groups.joined(separator: ", ")
    }

    package func hasImportant(_ network: AlertNetwork) -> Bool { entries.contains { network.importantName($0.account) != nil } }
}

/// Spec §1.1: what the rules know about one extrinsic.
package struct ExtrinsicFacts: Sendable {
    package var index: Int
    package var pallet: String
    package var call: String
    /// The extrinsic bytes; `hash` (blake2b-256) is computed only when an alert shows it.
    package var bytes: [UInt8]
    package var hash: [UInt8] { SubstrateHash.blake2b256(bytes) }
    package var signer: [UInt8]?
    /// The transfer value of the call itself (spec §1.1 step 2).
    package var transferValue: UInt128?
    /// The largest transfer value of any call nested inside (Utility.batch*, Proxy, Multisig, Sudo), and where.
    package var nestedTransfer: (value: UInt128, path: String)?
    /// A `Balances.force*` call nested inside, if any.
    package var nestedForce: String?
    /// Whether any call (top or nested) is a `Balances` call.
    package var touchesBalances: Bool
    package var accounts: RoleAccounts
}

/// Spec §1.2: what the rules know about one event.
package struct EventFacts: Sendable {
    package var event: DecodedEvent
    package var transferValue: UInt128?
    package var initiator: [UInt8]?
    package var accounts: RoleAccounts
}

/// The per-extrinsic and per-event alert chains of spec §1.1/§1.2 with the ⚠ fixes: nested transfers are found,
/// the TransactionPayment pallet is spelled right.
package enum TransactionRules {
    /// Spec §1.1 step 2 field names per pallet.
    package static func callTransferValue(_ call: DecodedCall) -> UInt128? {
        let names: [String]
        switch call.pallet {
        case "Balances": names = ["amount", "delta", "new_free", "value"]
        case "Transporter", "Domains": names = ["amount"]
        default: return nil
        }
        return sum(call.arguments, names: names)
    }

    package static func eventTransferValue(_ event: DecodedEvent) -> UInt128? {
        let names: [String]
        switch event.pallet {
        case "Balances": names = ["amount", "free_balance"]
        case "Transporter", "Domains": names = ["amount"]
        case "TransactionPayment": names = ["actual_fee", "tip"]
        default: return nil
        }
        return sum(event.fields, names: names)
    }

    private static func sum(_ fields: [ScaleField], names: [String]) -> UInt128? {
        var total: UInt128?
        for f in fields {
            guard let name = f.name, names.contains(name), let v = f.value.asUInt128 else { continue }
            let (s, overflow) = (total ?? 0).addingReportingOverflow(v)
            total = overflow ? .max : s
        }
        return total
    }

    package static func facts(_ x: DecodedExtrinsic, index: Int) -> ExtrinsicFacts {
        var accounts = RoleAccounts()
        accounts.add(.signer, x.signer)
        var nested: (UInt128, String)?
        var nestedForce: String?
        var touchesBalances = false
        // Depth-first walk with the path of wrapping calls, so "where it was nested" can be reported.
        func walk(_ call: DecodedCall, path: [String]) {
            let label = "\(call.pallet)::\(call.name)"
            if call.pallet == "Balances" {
                touchesBalances = true
                accounts.add(.receiver, call["dest"]?.accountId32)
                accounts.add(.sender, call["source"]?.accountId32)
                if call.name.hasPrefix("force"), !path.isEmpty, nestedForce == nil {
                    nestedForce = (path + [label]).joined(separator: " > ")
                }
            }
            if !path.isEmpty, let v = callTransferValue(call), v > (nested?.0 ?? 0) || nested == nil {
                nested = (v, (path + [label]).joined(separator: " > "))
            }
            for inner in call.nestedCalls { walk(inner, path: path + [label]) }
        }
        walk(x.call, path: [])
        return ExtrinsicFacts(index: index, pallet: x.call.pallet, call: x.call.name, bytes: x.bytes, signer: x.signer,
                              transferValue: callTransferValue(x.call), nestedTransfer: nested.map { (value: $0.0, path: $0.1) },
                              nestedForce: nestedForce, touchesBalances: touchesBalances, accounts: accounts)
    }

    package static func facts(_ e: DecodedEvent) -> EventFacts {
        var accounts = RoleAccounts()
        var initiator: [UInt8]?
        if let who = e["who"] {
            // A single account; a sequence of several accounts is not an initiator (spec: error log, none).
            if let seq = who.asSequence, seq.count > 1, seq.allSatisfy({ $0.accountId32 != nil }) {
                initiator = nil
            } else {
                initiator = who.accountId32
            }
        }
        accounts.add(.signer, initiator)
        switch e.pallet {
        case "Balances":
            accounts.add(["Burned", "Withdraw"].contains(e.name) ? .sender : .receiver, e["who"]?.accountId32)
            accounts.add(.sender, e["from"]?.accountId32)
            accounts.add(.receiver, e["to"]?.accountId32)
            accounts.add(.receiver, e["account"]?.accountId32)
        case "Domains":
            accounts.add(.sender, e["nominator_id"]?.accountId32)
        case "TransactionPayment": // ⚠ fixed: the original compared against "Transactionpayment".
            accounts.add(.sender, e["who"]?.accountId32)
        default:
            break
        }
        return EventFacts(event: e, transferValue: eventTransferValue(e), initiator: initiator, accounts: accounts)
    }

    /// `{Extrinsic}` of spec §6.4.
    package static func extrinsicText(_ f: ExtrinsicFacts, value: UInt128?, factory: AlertFactory) -> String {
        var s = "Extrinsic \(f.pallet)::\(f.call)(\(f.index)) [\(AlertText.shortHash(f.hash))](\(factory.extrinsicURL(f.hash)))\n"
        if let value { s += "Transfer Value: \(factory.amount(value))\n" }
        if !f.accounts.isEmpty { s += "Accounts: \(f.accounts.accountsText(factory.network))\n" }
        return s
    }

    /// `{Event}` of spec §6.4.
    package static func eventText(_ f: EventFacts, height: UInt64, extrinsic: ExtrinsicFacts?, factory: AlertFactory) -> String {
        let e = f.event
        var s = "Event \(e.pallet)::\(e.name)([\(e.index)](\(factory.eventURL(height: height, index: e.index))))\n"
        switch e.phase {
        case .applyExtrinsic(let n):
            if let extrinsic { s += "Phase: [ApplyExtrinsic(\(n))](\(factory.extrinsicURL(extrinsic.hash)))\n" } else { s += "Phase: ApplyExtrinsic(\(n))\n" }
        case .initialization: s += "Phase: Initialization\n"
        case .finalization: s += "Phase: Finalization\n"
        case .other(let v): s += "Phase: \(AlertText.value(v))\n"
        }
        if let v = f.transferValue { s += "Transfer Value: \(factory.amount(v))\n" }
        if !f.accounts.isEmpty { s += "Accounts: \(f.accounts.accountsText(factory.network))\n" }
        s += AlertText.truncateField(AlertText.fields(e.fields))
        return s
    }
}
