import SubstrateRuntime
import SubstratePrimitives
import WorkerRuntime

/// The Subspace-shaped runtime the devnode simulates, described in code (no files from outside the
/// repository): System, Timestamp, Subspace, Balances, TransactionPayment, Utility, Domains and Sudo,
/// with the pallet indices, call/event names, field names and field type shapes of the real Chronos
/// runtime (spec 6). `Domains.OperatorOffline` does not exist in Chronos spec 6; the devnode gives it
/// index 25.
///
/// It also encodes calls, extrinsics and `System.Events` values with the same shapes, so that blocks
/// decode with our own decoder from the metadata this type produces.
enum DevRuntime {
    static let chainName = "Autonomys Devnode"
    static let specName = "subspace"
    static let ss58Prefix: UInt16 = 6094
    static let tokenSymbol = "AI3"
    static let tokenDecimals = 18
    static let transactionVersion: UInt32 = 1

    /// Pallet indices (as in Chronos).
    enum Pallet {
        static let system: UInt8 = 0
        static let timestamp: UInt8 = 1
        static let subspace: UInt8 = 2
        static let balances: UInt8 = 5
        static let transactionPayment: UInt8 = 7
        static let utility: UInt8 = 8
        static let domains: UInt8 = 12
        static let sudo: UInt8 = 100
    }

    // MARK: metadata

    /// V14 metadata bytes for the runtime at `specVersion`.
    static func metadata(specVersion: UInt32) -> [UInt8] {
        var b = MetadataBuilder()
        let u8 = b.primitive(.u8), u16 = b.primitive(.u16), u32 = b.primitive(.u32), u64 = b.primitive(.u64)
        let u128 = b.primitive(.u128), bool = b.primitive(.bool), str = b.primitive(.str)
        let bytes = b.add(.sequence(u8))
        let arr4 = b.add(.array(length: 4, element: u8))
        let arr8 = b.add(.array(length: 8, element: u8))
        let arr20 = b.add(.array(length: 20, element: u8))
        let arr32 = b.add(.array(length: 32, element: u8))
        let arr64 = b.add(.array(length: 64, element: u8))
        let arr65 = b.add(.array(length: 65, element: u8))
        let unit = b.add(.tuple([]))
        let accountId = b.add(["sp_core", "crypto", "AccountId32"], .composite([FieldDefinition(nil, arr32, "[u8; 32]")]))
        let h256 = b.add(["primitive_types", "H256"], .composite([FieldDefinition(nil, arr32, "[u8; 32]")]))
        let publicKey = b.add(["subspace_core_primitives", "PublicKey"], .composite([FieldDefinition(nil, arr32, "[u8; 32]")]))
        let compactUnit = b.add(.compact(unit))
        let compactU128 = b.add(.compact(u128))
        let compactU64 = b.add(.compact(u64))
        let compactU32 = b.add(.compact(u32))
        let multiAddress = b.add(["sp_runtime", "multiaddress", "MultiAddress"], parameters: [("AccountId", accountId), ("AccountIndex", unit)], .variant([
            VariantDefinition("Id", 0, [FieldDefinition(nil, accountId, "AccountId")]),
            VariantDefinition("Index", 1, [FieldDefinition(nil, compactUnit, "AccountIndex")]),
            VariantDefinition("Raw", 2, [FieldDefinition(nil, bytes, "Vec<u8>")]),
            VariantDefinition("Address32", 3, [FieldDefinition(nil, arr32, "[u8; 32]")]),
            VariantDefinition("Address20", 4, [FieldDefinition(nil, arr20, "[u8; 20]")]),
        ]))
        let signature = b.add(["sp_runtime", "MultiSignature"], .variant([
            VariantDefinition("Ed25519", 0, [FieldDefinition(nil, arr64, "ed25519::Signature")]),
            VariantDefinition("Sr25519", 1, [FieldDefinition(nil, arr64, "sr25519::Signature")]),
            VariantDefinition("Ecdsa", 2, [FieldDefinition(nil, arr65, "ecdsa::Signature")]),
        ]))
        var eraVariants = [VariantDefinition("Immortal", 0)]
        for n in 1 ... 255 { eraVariants.append(VariantDefinition("Mortal\(n)", UInt8(n), [FieldDefinition(nil, u8)])) }
        let era = b.add(["sp_runtime", "generic", "era", "Era"], .variant(eraVariants))
        let weight = b.add(["sp_weights", "weight_v2", "Weight"], .composite([
            FieldDefinition("ref_time", compactU64, "u64"), FieldDefinition("proof_size", compactU64, "u64"),
        ]))
        let dispatchClass = b.add(["frame_support", "dispatch", "DispatchClass"], .variant([
            VariantDefinition("Normal", 0), VariantDefinition("Operational", 1), VariantDefinition("Mandatory", 2),
        ]))
        let pays = b.add(["frame_support", "dispatch", "Pays"], .variant([VariantDefinition("Yes", 0), VariantDefinition("No", 1)]))
        let dispatchInfo = b.add(["frame_support", "dispatch", "DispatchInfo"], .composite([
            FieldDefinition("weight", weight, "Weight"), FieldDefinition("class", dispatchClass, "DispatchClass"),
            FieldDefinition("pays_fee", pays, "Pays"),
        ]))
        let moduleError = b.add(["sp_runtime", "ModuleError"], .composite([
            FieldDefinition("index", u8, "u8"), FieldDefinition("error", arr4, "[u8; MAX_MODULE_ERROR_ENCODED_SIZE]"),
        ]))
        let dispatchError = b.add(["sp_runtime", "DispatchError"], .variant([
            VariantDefinition("Other", 0), VariantDefinition("CannotLookup", 1), VariantDefinition("BadOrigin", 2),
            VariantDefinition("Module", 3, [FieldDefinition(nil, moduleError, "ModuleError")]),
        ]))
        let dispatchResult = b.add(["Result"], parameters: [("T", unit), ("E", dispatchError)], .variant([
            VariantDefinition("Ok", 0, [FieldDefinition(nil, unit)]), VariantDefinition("Err", 1, [FieldDefinition(nil, dispatchError)]),
        ]))
        let optionAccount = b.add(["Option"], parameters: [("T", accountId)], .variant([
            VariantDefinition("None", 0), VariantDefinition("Some", 1, [FieldDefinition(nil, accountId)]),
        ]))
        let phase = b.add(["frame_system", "Phase"], .variant([
            VariantDefinition("ApplyExtrinsic", 0, [FieldDefinition(nil, u32, "u32")]),
            VariantDefinition("Finalization", 1), VariantDefinition("Initialization", 2),
        ]))
        let runtimeCall = b.reserve(["subspace_runtime", "RuntimeCall"])
        let runtimeEvent = b.reserve(["subspace_runtime", "RuntimeEvent"])
        let callVec = b.add(.sequence(runtimeCall))
        let h256Vec = b.add(.sequence(h256))

        // Calls
        let systemCall = b.add(["frame_system", "pallet", "Call"], .variant([
            VariantDefinition("remark", 0, [FieldDefinition("remark", bytes, "Vec<u8>")]),
            VariantDefinition("set_code", 2, [FieldDefinition("code", bytes, "Vec<u8>")]),
            VariantDefinition("remark_with_event", 7, [FieldDefinition("remark", bytes, "Vec<u8>")]),
        ]))
        let timestampCall = b.add(["pallet_timestamp", "pallet", "Call"], .variant([
            VariantDefinition("set", 0, [FieldDefinition("now", compactU64, "T::Moment")]),
        ]))
        let vote = b.add(["sp_consensus_subspace", "Vote"], .variant([
            VariantDefinition("V0", 0, [
                FieldDefinition("height", u32, "Number"), FieldDefinition("parent_hash", h256, "Hash"),
                FieldDefinition("slot", u64, "Slot"), FieldDefinition("public_key", publicKey, "PublicKey"),
                FieldDefinition("reward_address", accountId, "RewardAddress"),
            ]),
        ]))
        let signedVote = b.add(["sp_consensus_subspace", "SignedVote"], .composite([
            FieldDefinition("vote", vote, "Vote<Number, Hash, RewardAddress>"), FieldDefinition("signature", arr64, "RewardSignature"),
        ]))
        let subspaceCall = b.add(["pallet_subspace", "pallet", "Call"], .variant([
            VariantDefinition("vote", 2, [FieldDefinition("signed_vote", signedVote, "Box<SignedVote<...>>")]),
            VariantDefinition("enable_authoring_by_anyone", 4),
        ]))
        let balancesCall = b.add(["pallet_balances", "pallet", "Call"], .variant([
            VariantDefinition("transfer_allow_death", 0, [FieldDefinition("dest", multiAddress, "AccountIdLookupOf<T>"), FieldDefinition("value", compactU128, "T::Balance")]),
            VariantDefinition("force_transfer", 2, [FieldDefinition("source", multiAddress, "AccountIdLookupOf<T>"), FieldDefinition("dest", multiAddress, "AccountIdLookupOf<T>"), FieldDefinition("value", compactU128, "T::Balance")]),
            VariantDefinition("transfer_keep_alive", 3, [FieldDefinition("dest", multiAddress, "AccountIdLookupOf<T>"), FieldDefinition("value", compactU128, "T::Balance")]),
            VariantDefinition("transfer_all", 4, [FieldDefinition("dest", multiAddress, "AccountIdLookupOf<T>"), FieldDefinition("keep_alive", bool, "bool")]),
            VariantDefinition("force_set_balance", 8, [FieldDefinition("who", multiAddress, "AccountIdLookupOf<T>"), FieldDefinition("new_free", compactU128, "T::Balance")]),
        ]))
        let sudoCall = b.add(["pallet_sudo", "pallet", "Call"], .variant([
            VariantDefinition("sudo", 0, [FieldDefinition("call", runtimeCall, "Box<<T as Config>::RuntimeCall>")]),
            VariantDefinition("sudo_unchecked_weight", 1, [FieldDefinition("call", runtimeCall, "Box<<T as Config>::RuntimeCall>"), FieldDefinition("weight", weight, "Weight")]),
            VariantDefinition("set_key", 2, [FieldDefinition("new", multiAddress, "AccountIdLookupOf<T>")]),
            VariantDefinition("sudo_as", 3, [FieldDefinition("who", multiAddress, "AccountIdLookupOf<T>"), FieldDefinition("call", runtimeCall, "Box<<T as Config>::RuntimeCall>")]),
            VariantDefinition("remove_key", 4),
        ]))
        let utilityCall = b.add(["pallet_utility", "pallet", "Call"], .variant([
            VariantDefinition("batch", 0, [FieldDefinition("calls", callVec, "Vec<<T as Config>::RuntimeCall>")]),
            VariantDefinition("batch_all", 2, [FieldDefinition("calls", callVec, "Vec<<T as Config>::RuntimeCall>")]),
            VariantDefinition("force_batch", 4, [FieldDefinition("calls", callVec, "Vec<<T as Config>::RuntimeCall>")]),
        ]))
        let domainsCall = b.add(["pallet_domains", "pallet", "Call"], .variant([
            VariantDefinition("nominate_operator", 5, [FieldDefinition("operator_id", u64, "OperatorId"), FieldDefinition("amount", u128, "BalanceOf<T>")]),
            VariantDefinition("deregister_operator", 8, [FieldDefinition("operator_id", u64, "OperatorId")]),
        ]))
        b.define(runtimeCall, .variant([
            VariantDefinition("System", Pallet.system, [FieldDefinition(nil, systemCall)]),
            VariantDefinition("Timestamp", Pallet.timestamp, [FieldDefinition(nil, timestampCall)]),
            VariantDefinition("Subspace", Pallet.subspace, [FieldDefinition(nil, subspaceCall)]),
            VariantDefinition("Balances", Pallet.balances, [FieldDefinition(nil, balancesCall)]),
            VariantDefinition("Utility", Pallet.utility, [FieldDefinition(nil, utilityCall)]),
            VariantDefinition("Domains", Pallet.domains, [FieldDefinition(nil, domainsCall)]),
            VariantDefinition("Sudo", Pallet.sudo, [FieldDefinition(nil, sudoCall)]),
        ]))

        // Events
        let systemEvent = b.add(["frame_system", "pallet", "Event"], .variant([
            VariantDefinition("ExtrinsicSuccess", 0, [FieldDefinition("dispatch_info", dispatchInfo, "DispatchInfo")]),
            VariantDefinition("ExtrinsicFailed", 1, [FieldDefinition("dispatch_error", dispatchError, "DispatchError"), FieldDefinition("dispatch_info", dispatchInfo, "DispatchInfo")]),
            VariantDefinition("CodeUpdated", 2),
            VariantDefinition("NewAccount", 3, [FieldDefinition("account", accountId, "T::AccountId")]),
        ]))
        let subspaceEvent = b.add(["pallet_subspace", "pallet", "Event"], .variant([
            VariantDefinition("FarmerVote", 1, [
                FieldDefinition("public_key", publicKey, "PublicKey"), FieldDefinition("reward_address", accountId, "T::AccountId"),
                FieldDefinition("height", u32, "BlockNumberFor<T>"), FieldDefinition("parent_hash", h256, "T::Hash"),
            ]),
        ]))
        let balancesEvent = b.add(["pallet_balances", "pallet", "Event"], .variant([
            VariantDefinition("Endowed", 0, [FieldDefinition("account", accountId, "T::AccountId"), FieldDefinition("free_balance", u128, "T::Balance")]),
            VariantDefinition("Transfer", 2, [FieldDefinition("from", accountId, "T::AccountId"), FieldDefinition("to", accountId, "T::AccountId"), FieldDefinition("amount", u128, "T::Balance")]),
            VariantDefinition("Deposit", 7, [FieldDefinition("who", accountId, "T::AccountId"), FieldDefinition("amount", u128, "T::Balance")]),
            VariantDefinition("Withdraw", 8, [FieldDefinition("who", accountId, "T::AccountId"), FieldDefinition("amount", u128, "T::Balance")]),
        ]))
        let paymentEvent = b.add(["pallet_transaction_payment", "pallet", "Event"], .variant([
            VariantDefinition("TransactionFeePaid", 0, [FieldDefinition("who", accountId, "T::AccountId"), FieldDefinition("actual_fee", u128, "BalanceOf<T>"), FieldDefinition("tip", u128, "BalanceOf<T>")]),
        ]))
        let utilityEvent = b.add(["pallet_utility", "pallet", "Event"], .variant([
            VariantDefinition("BatchCompleted", 1), VariantDefinition("ItemCompleted", 3),
        ]))
        let slashedReason = b.add(["sp_domains", "SlashedReason"], parameters: [("DomainBlock", u32), ("ReceiptHash", h256)], .variant([
            VariantDefinition("InvalidBundle", 0, [FieldDefinition(nil, u32, "DomainBlock")]),
            VariantDefinition("BadExecutionReceipt", 1, [FieldDefinition(nil, h256, "ReceiptHash")]),
        ]))
        let domainsEvent = b.add(["pallet_domains", "pallet", "Event"], .variant([
            VariantDefinition("OperatorSlashed", 20, [FieldDefinition("operator_id", u64, "OperatorId"), FieldDefinition("reason", slashedReason, "SlashedReason<...>")]),
            VariantDefinition("OperatorOffline", 25, [FieldDefinition("operator_id", u64, "OperatorId"), FieldDefinition("domain_id", u32, "DomainId"), FieldDefinition("submitted_bundles", u64, "u64"), FieldDefinition("expected_bundles", u64, "u64")]),
        ]))
        let sudoEvent = b.add(["pallet_sudo", "pallet", "Event"], .variant([
            VariantDefinition("Sudid", 0, [FieldDefinition("sudo_result", dispatchResult, "DispatchResult")]),
            VariantDefinition("KeyChanged", 1, [FieldDefinition("old", optionAccount, "Option<T::AccountId>"), FieldDefinition("new", accountId, "T::AccountId")]),
            VariantDefinition("SudoAsDone", 3, [FieldDefinition("sudo_result", dispatchResult, "DispatchResult")]),
        ]))
        b.define(runtimeEvent, .variant([
            VariantDefinition("System", Pallet.system, [FieldDefinition(nil, systemEvent)]),
            VariantDefinition("Subspace", Pallet.subspace, [FieldDefinition(nil, subspaceEvent)]),
            VariantDefinition("Balances", Pallet.balances, [FieldDefinition(nil, balancesEvent)]),
            VariantDefinition("TransactionPayment", Pallet.transactionPayment, [FieldDefinition(nil, paymentEvent)]),
            VariantDefinition("Utility", Pallet.utility, [FieldDefinition(nil, utilityEvent)]),
            VariantDefinition("Domains", Pallet.domains, [FieldDefinition(nil, domainsEvent)]),
            VariantDefinition("Sudo", Pallet.sudo, [FieldDefinition(nil, sudoEvent)]),
        ]))
        let eventRecord = b.add(["frame_system", "EventRecord"], parameters: [("E", runtimeEvent), ("T", h256)], .composite([
            FieldDefinition("phase", phase, "Phase"), FieldDefinition("event", runtimeEvent, "E"), FieldDefinition("topics", h256Vec, "Vec<T>"),
        ]))
        let eventRecords = b.add(.sequence(eventRecord))

        // Constants
        let apiEntry = b.add(.tuple([arr8, u32]))
        let apis = b.add(["Cow"], .composite([FieldDefinition(nil, b.add(.sequence(apiEntry)))]))
        let runtimeVersion = b.add(["sp_version", "RuntimeVersion"], .composite([
            FieldDefinition("spec_name", str, "RuntimeString"), FieldDefinition("impl_name", str, "RuntimeString"),
            FieldDefinition("authoring_version", u32, "u32"), FieldDefinition("spec_version", u32, "u32"),
            FieldDefinition("impl_version", u32, "u32"), FieldDefinition("apis", apis, "ApisVec"),
            FieldDefinition("transaction_version", u32, "u32"), FieldDefinition("state_version", u8, "u8"),
        ]))
        var version = ScaleWriter()
        version.writeString(specName)
        version.writeString("subspace-devnode")
        version.writeU32(0)
        version.writeU32(specVersion)
        version.writeU32(0)
        version.writeCompact(UInt64(0))
        version.writeU32(transactionVersion)
        version.writeU8(1)
        var prefix = ScaleWriter()
        prefix.writeU16(ss58Prefix)
        var existential = ScaleWriter()
        existential.writeBytes(u128LE(500_000_000_000_000))

        // Extrinsic
        let emptyComposite = { (b: inout MetadataBuilder, path: String) in b.add(["devnode", path], .composite([])) }
        let checkSpec = emptyComposite(&b, "CheckSpecVersion")
        let checkTx = emptyComposite(&b, "CheckTxVersion")
        let checkGenesis = emptyComposite(&b, "CheckGenesis")
        let checkMortality = b.add(["frame_system", "extensions", "check_mortality", "CheckMortality"], .composite([FieldDefinition(nil, era, "Era")]))
        let checkNonce = b.add(["frame_system", "extensions", "check_nonce", "CheckNonce"], .composite([FieldDefinition(nil, compactU32, "T::Nonce")]))
        let checkWeight = emptyComposite(&b, "CheckWeight")
        let chargePayment = b.add(["pallet_transaction_payment", "ChargeTransactionPayment"], .composite([FieldDefinition(nil, compactU128, "BalanceOf<T>")]))
        let extensions: [(String, Int, Int)] = [
            ("CheckSpecVersion", checkSpec, u32), ("CheckTxVersion", checkTx, u32), ("CheckGenesis", checkGenesis, h256),
            ("CheckMortality", checkMortality, h256), ("CheckNonce", checkNonce, unit), ("CheckWeight", checkWeight, unit),
            ("ChargeTransactionPayment", chargePayment, unit),
        ]
        let extra = b.add(.tuple(extensions.map(\.1)))
        let extrinsic = b.add(["sp_runtime", "generic", "unchecked_extrinsic", "UncheckedExtrinsic"],
                              parameters: [("Address", multiAddress), ("Call", runtimeCall), ("Signature", signature), ("Extra", extra)],
                              .composite([FieldDefinition(nil, bytes)]))
        let runtime = b.add(["subspace_runtime", "Runtime"], .composite([]))
        _ = u16

        let pallets = [
            PalletDefinition(name: "System", index: Pallet.system,
                             storage: [StorageEntryDefinition(name: "Events", valueType: eventRecords, defaultValue: [0])],
                             callType: systemCall, eventType: systemEvent,
                             constants: [ConstantDefinition(name: "Version", type: runtimeVersion, value: version.bytes),
                                         ConstantDefinition(name: "SS58Prefix", type: u16, value: prefix.bytes)]),
            PalletDefinition(name: "Timestamp", index: Pallet.timestamp, callType: timestampCall),
            PalletDefinition(name: "Subspace", index: Pallet.subspace, callType: subspaceCall, eventType: subspaceEvent),
            PalletDefinition(name: "Balances", index: Pallet.balances, callType: balancesCall, eventType: balancesEvent,
                             constants: [ConstantDefinition(name: "ExistentialDeposit", type: u128, value: existential.bytes)]),
            PalletDefinition(name: "TransactionPayment", index: Pallet.transactionPayment, eventType: paymentEvent),
            PalletDefinition(name: "Utility", index: Pallet.utility, callType: utilityCall, eventType: utilityEvent),
            PalletDefinition(name: "Domains", index: Pallet.domains, callType: domainsCall, eventType: domainsEvent),
            PalletDefinition(name: "Sudo", index: Pallet.sudo, callType: sudoCall, eventType: sudoEvent),
        ]
        return b.encode(pallets: pallets, extrinsicType: extrinsic, signedExtensions: extensions, runtimeType: runtime)
    }

    // MARK: encoding blocks

    static func u128LE(_ value: UInt128) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        for _ in 0 ..< 16 {
            out.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
        return out
    }

    /// A call: pallet index, call index, arguments.
    static func call(_ pallet: UInt8, _ index: UInt8, _ arguments: (inout ScaleWriter) -> Void = { _ in }) -> [UInt8] {
        var w = ScaleWriter()
        w.writeU8(pallet)
        w.writeU8(index)
        arguments(&w)
        return w.bytes
    }

    static func multiAddress(_ account: [UInt8], into w: inout ScaleWriter) {
        w.writeU8(0)
        w.writeBytes(account)
    }

    static func timestampSet(_ milliseconds: UInt64) -> [UInt8] {
        call(Pallet.timestamp, 0) { $0.writeCompact(milliseconds) }
    }

    static func transfer(to dest: [UInt8], value: UInt128, keepAlive: Bool = false) -> [UInt8] {
        call(Pallet.balances, keepAlive ? 3 : 0) { w in
            multiAddress(dest, into: &w)
            writeCompact128(value, into: &w)
        }
    }

    static func forceTransfer(from source: [UInt8], to dest: [UInt8], value: UInt128) -> [UInt8] {
        call(Pallet.balances, 2) { w in
            multiAddress(source, into: &w)
            multiAddress(dest, into: &w)
            writeCompact128(value, into: &w)
        }
    }

    static func sudo(_ inner: [UInt8]) -> [UInt8] {
        call(Pallet.sudo, 0) { $0.writeBytes(inner) }
    }

    static func remark(_ text: String) -> [UInt8] {
        call(Pallet.system, 0) { $0.writeByteVector(Array(text.utf8)) }
    }

    static func setCode(_ code: [UInt8]) -> [UInt8] {
        call(Pallet.system, 2) { $0.writeByteVector(code) }
    }

    static func vote(height: UInt32, parentHash: [UInt8], slot: UInt64, publicKey: [UInt8], rewardAddress: [UInt8]) -> [UInt8] {
        call(Pallet.subspace, 2) { w in
            w.writeU8(0)  // Vote::V0
            w.writeU32(height)
            w.writeBytes(parentHash)
            w.writeU64(slot)
            w.writeBytes(publicKey)
            w.writeBytes(rewardAddress)
            w.writeBytes([UInt8](repeating: 0x5a, count: 64))
        }
    }

    static func writeCompact128(_ value: UInt128, into w: inout ScaleWriter) {
        if value <= UInt128(UInt64.max) {
            w.writeCompact(UInt64(value))
            return
        }
        var byteCount = 16
        while byteCount > 8, (value >> UInt128((byteCount - 1) * 8)) & 0xff == 0 { byteCount -= 1 }
        w.writeU8(UInt8((byteCount - 4) << 2) | 0b11)
        w.writeBytes(u128LE(value).prefix(byteCount))
    }

    /// An unsigned (inherent) extrinsic, with its compact length prefix.
    static func unsignedExtrinsic(_ call: [UInt8]) -> [UInt8] {
        var w = ScaleWriter()
        w.writeCompact(UInt64(call.count + 1))
        w.writeU8(0x04)
        w.writeBytes(call)
        return w.bytes
    }

    /// A signed extrinsic (immortal, tip 0) from `signer`; the signature is a placeholder.
    static func signedExtrinsic(_ call: [UInt8], signer: [UInt8], nonce: UInt32) -> [UInt8] {
        var body = ScaleWriter()
        body.writeU8(0x84)
        multiAddress(signer, into: &body)
        body.writeU8(1)  // Sr25519
        body.writeBytes([UInt8](repeating: 0x11, count: 64))
        body.writeU8(0)  // Era::Immortal
        body.writeCompact(UInt64(nonce))
        body.writeCompact(UInt64(0))  // tip
        body.writeBytes(call)
        var w = ScaleWriter()
        w.writeByteVector(body.bytes)
        return w.bytes
    }

    /// One `EventRecord` to be placed in `System.Events`.
    struct EventRecord {
        /// nil = Finalization.
        var extrinsicIndex: UInt32?
        var pallet: UInt8
        var index: UInt8
        var fields: [UInt8]
    }

    static func encodeEvents(_ records: [EventRecord]) -> [UInt8] {
        var w = ScaleWriter()
        w.writeCompact(UInt64(records.count))
        for record in records {
            if let index = record.extrinsicIndex {
                w.writeU8(0)
                w.writeU32(index)
            } else {
                w.writeU8(1)
            }
            w.writeU8(record.pallet)
            w.writeU8(record.index)
            w.writeBytes(record.fields)
            w.writeCompact(UInt64(0))
        }
        return w.bytes
    }

    static func extrinsicSuccess(_ index: UInt32, mandatory: Bool = false) -> EventRecord {
        var w = ScaleWriter()
        w.writeCompact(UInt64(1_000_000))
        w.writeCompact(UInt64(0))
        w.writeU8(mandatory ? 2 : 0)
        w.writeU8(mandatory ? 1 : 0)
        return EventRecord(extrinsicIndex: index, pallet: Pallet.system, index: 0, fields: w.bytes)
    }

    static func transferEvent(_ index: UInt32, from: [UInt8], to: [UInt8], amount: UInt128) -> EventRecord {
        EventRecord(extrinsicIndex: index, pallet: Pallet.balances, index: 2, fields: from + to + u128LE(amount))
    }

    static func feePaid(_ index: UInt32, who: [UInt8]) -> EventRecord {
        EventRecord(extrinsicIndex: index, pallet: Pallet.transactionPayment, index: 0, fields: who + u128LE(12_000_000_000_000) + u128LE(0))
    }

    static func sudid(_ index: UInt32) -> EventRecord {
        EventRecord(extrinsicIndex: index, pallet: Pallet.sudo, index: 0, fields: [0])
    }

    static func codeUpdated(_ index: UInt32) -> EventRecord {
        EventRecord(extrinsicIndex: index, pallet: Pallet.system, index: 2, fields: [])
    }

    static func farmerVote(_ index: UInt32, publicKey: [UInt8], rewardAddress: [UInt8], height: UInt32, parentHash: [UInt8]) -> EventRecord {
        var w = ScaleWriter()
        w.writeBytes(publicKey)
        w.writeBytes(rewardAddress)
        w.writeU32(height)
        w.writeBytes(parentHash)
        return EventRecord(extrinsicIndex: index, pallet: Pallet.subspace, index: 1, fields: w.bytes)
    }

    static func operatorSlashed(operatorID: UInt64, blockNumber: UInt32) -> EventRecord {
        var w = ScaleWriter()
        w.writeU64(operatorID)
        w.writeU8(0)
        w.writeU32(blockNumber)
        return EventRecord(extrinsicIndex: nil, pallet: Pallet.domains, index: 20, fields: w.bytes)
    }

    static func operatorOffline(operatorID: UInt64) -> EventRecord {
        var w = ScaleWriter()
        w.writeU64(operatorID)
        w.writeU32(0)
        w.writeU64(0)
        w.writeU64(12)
        return EventRecord(extrinsicIndex: nil, pallet: Pallet.domains, index: 25, fields: w.bytes)
    }

    /// A deterministic 32-byte account for a label.
    static func account(_ label: String) -> [UInt8] {
        SubstrateHash.blake2b256(Array("devnode/\(label)".utf8))
    }
}
