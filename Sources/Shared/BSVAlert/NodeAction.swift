/// One SV Node JSON-RPC call an alert requires, with the method and params exactly as the reference sends them.
public struct NodeRPCCall: Hashable, Sendable {
    public let method: String
    public let params: [AlertJSON]

    public init(method: String, params: [AlertJSON]) {
        self.method = method
        self.params = params
    }

    /// The reference client's body (go-bn): `{"id":"go-bn","jsonRpc":"1.0","method":…,"params":[…]}`, with
    /// `params` left out when empty. Sent as an HTTP POST with Basic auth and `Content-Type: text/plain`.
    public var requestBody: String {
        var members: [AlertJSON.Member] = [.init("id", .string("go-bn")), .init("jsonRpc", .string("1.0")), .init("method", .string(method))]
        if !params.isEmpty { members.append(.init("params", .array(params))) }
        return AlertJSON.object(members).rendered
    }
}

extension AlertPayload {
    /// The node calls this alert requires (none for Informational and Set Keys, which are local only).
    /// Freeze and Unfreeze send the same call; u64 values become signed 64-bit, as in the reference.
    public var nodeCalls: [NodeRPCCall] {
        switch self {
        case .informational, .setKeys:
            return []
        case .freezeUTXO(let funds), .unfreezeUTXO(let funds):
            let entries: [AlertJSON] = funds.map { fund in
                .fields([
                    "txOut": .fields(["txId": .string(fund.txidHex), "vout": .int(Int64(bitPattern: fund.vout))]),
                    "enforceAtHeight": .array([.fields([
                        "start": .int(Int64(bitPattern: fund.enforceAtHeightStart)), "stop": .int(Int64(bitPattern: fund.enforceAtHeightStop)),
                    ])]),
                    "policyExpiresWithConsensus": .bool(fund.policyExpiresWithConsensus),
                ])
            }
            return [NodeRPCCall(method: "addToConsensusBlacklist", params: [.fields(["funds": .array(entries)])])]
        case .confiscateUTXO(let height, let transaction, _):
            let entry: AlertJSON = .fields(["confiscationTx": .fields([
                "enforceAtHeight": .int(Int64(bitPattern: height)), "hex": .string(HexEncoding.encode(transaction)),
            ])])
            return [NodeRPCCall(method: "addToConfiscationTxidWhitelist", params: [.fields(["confiscationTxs": .array([entry])])])]
        case .banPeer(let peer, _):
            return [NodeRPCCall(method: "setban", params: [.string(peer), .string("add")])]
        case .unbanPeer(let peer, _):
            return [NodeRPCCall(method: "setban", params: [.string(peer), .string("remove")])]
        case .invalidateBlock(let hash, _):
            return [NodeRPCCall(method: "invalidateblock", params: [.string(Self.displayHex(ofBlockHash: hash))])]
        }
    }
}

/// A fund or transaction the node refused on purpose (`notProcessed` in its answer).
public struct RefusedItem: Hashable, Sendable {
    /// `txid:vout` for a fund, the txid for a confiscation transaction (as the node names it).
    public let item: String
    public let reason: String
}

/// What one answer from an SV Node means for a node action (INTERFACE.md, "Semantics", 4).
public enum NodeCallOutcome: Hashable, Sendable {
    /// Accepted.
    case done
    /// The node says it is already in the wanted state: `setban add` on a banned subnet (−23),
    /// `setban remove` on one that is not banned (−30). Counts as done.
    case alreadyDone(code: Int64, message: String)
    /// `notProcessed` entries: the node refused these on purpose. Final: raise AlertActionFailed, never retry.
    case refused([RefusedItem])
    /// Anything else (an RPC error, a body that is not JSON-RPC): retry with backoff.
    case failed(String)

    public var isDone: Bool {
        switch self {
        case .done, .alreadyDone: true
        case .refused, .failed: false
        }
    }

    public var isFinal: Bool {
        if case .failed = self { false } else { true }
    }
}

extension NodeRPCCall {
    static let alreadyBannedCode: Int64 = -23
    static let notBannedCode: Int64 = -30

    /// Classifies an answer. Like the reference, the HTTP status is not what decides: SV Node answers RPC
    /// errors with 500 and a JSON-RPC body, so the body is read first and the status only explains a body
    /// that is not JSON-RPC (a 401 with an empty body, a proxy's HTML page).
    public func classify(httpStatus: Int, body: [UInt8]) -> NodeCallOutcome {
        guard let answer = AlertJSON.parse(body), case .object = answer else {
            return .failed("HTTP \(httpStatus) from the node with a body that is not JSON-RPC (\(body.count) bytes)")
        }
        if let error = answer["error"], error != .null {
            let code: Int64? = if case .int(let value)? = error["code"] { value } else { nil }
            let message: String = if case .string(let text)? = error["message"] { text } else { error.rendered }
            if method == "setban", params.count >= 2 {
                if params[1] == .string("add"), code == Self.alreadyBannedCode { return .alreadyDone(code: Self.alreadyBannedCode, message: message) }
                if params[1] == .string("remove"), code == Self.notBannedCode { return .alreadyDone(code: Self.notBannedCode, message: message) }
            }
            return .failed("\(code.map(String.init) ?? "?"): \(message)")
        }
        if case .array(let entries)? = answer["result"]?["notProcessed"], !entries.isEmpty {
            return .refused(entries.map(Self.refusedItem))
        }
        return .done
    }

    private static func refusedItem(_ entry: AlertJSON) -> RefusedItem {
        let reason: String = if case .string(let text)? = entry["reason"] { text } else { "" }
        if let txOut = entry["txOut"], case .string(let txid)? = txOut["txId"] {
            let vout: String = switch txOut["vout"] {
            case .int(let value)?: String(value)
            case .uint(let value)?: String(value)
            default: "?"
            }
            return RefusedItem(item: "\(txid):\(vout)", reason: reason)
        }
        if case .string(let txid)? = entry["confiscationTx"]?["txId"] { return RefusedItem(item: txid, reason: reason) }
        return RefusedItem(item: entry.rendered, reason: reason)
    }
}
