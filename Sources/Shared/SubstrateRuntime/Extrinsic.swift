import SubstratePrimitives
/// A decoded call: pallet and call names and indices, named arguments, and the raw `RuntimeCall` value.
/// Nested calls (`Utility.batch`, `Sudo.sudo`, `Proxy.proxy`, `Multisig.as_multi`, ...) are found through
/// `nestedCalls`/`allCalls`, wherever they sit in the arguments.
public struct DecodedCall: Sendable, Hashable {
    public let palletIndex: UInt8
    public let pallet: String
    public let callIndex: UInt8
    public let name: String
    public let arguments: [ScaleField]
    /// The complete `RuntimeCall` value, as decoded; encoding it with `callTypeId` gives back the call bytes.
    public let value: ScaleValue
    /// The registry id of the runtime's outer call enum.
    public let callTypeId: Int

    /// Interprets a `RuntimeCall` value (outer variant = pallet, inner variant = call).
    public init?(_ value: ScaleValue, callTypeId: Int) {
        guard case .variant(let outer) = value, outer.typeId == callTypeId, outer.fields.count == 1,
              case .variant(let inner) = outer.fields[0].value else { return nil }
        palletIndex = outer.index
        pallet = outer.name
        callIndex = inner.index
        name = inner.name
        arguments = inner.fields
        self.value = value
        self.callTypeId = callTypeId
    }

    /// The named argument.
    public subscript(_ argument: String) -> ScaleValue? {
        arguments.first { $0.name == argument }?.value
    }

    /// Calls directly nested in this call's arguments (e.g. every call of a batch, or the call of `Sudo.sudo`).
    public var nestedCalls: [DecodedCall] {
        var found: [DecodedCall] = []
        for argument in arguments { Self.collect(argument.value, callTypeId: callTypeId, into: &found) }
        return found
    }

    /// This call followed by all nested calls, depth first.
    public var allCalls: [DecodedCall] {
        var out = [self]
        for nested in nestedCalls { out.append(contentsOf: nested.allCalls) }
        return out
    }

    private static func collect(_ value: ScaleValue, callTypeId: Int, into found: inout [DecodedCall]) {
        switch value {
        case .variant(let v):
            if v.typeId == callTypeId, let call = DecodedCall(value, callTypeId: callTypeId) {
                found.append(call)
            } else {
                for f in v.fields { collect(f.value, callTypeId: callTypeId, into: &found) }
            }
        case .composite(let c):
            for f in c.fields { collect(f.value, callTypeId: callTypeId, into: &found) }
        case .sequence(let items):
            for item in items { collect(item, callTypeId: callTypeId, into: &found) }
        default:
            break
        }
    }
}

/// The signature part of a signed extrinsic.
public struct ExtrinsicSignature: Sendable, Hashable {
    /// The address (usually `MultiAddress`).
    public let address: ScaleValue
    /// The signature (usually `MultiSignature`, e.g. `Ed25519`/`Sr25519`).
    public let signature: ScaleValue
    /// The "extra" value of each signed extension, in metadata order.
    public let extensions: [ScaleField]

    /// The value of the named signed extension (`CheckNonce`, `CheckMortality`, `ChargeTransactionPayment`, ...).
    public func extensionValue(_ identifier: String) -> ScaleValue? {
        extensions.first { $0.name == identifier }?.value
    }
}

/// A decoded extrinsic (format version 4).
public struct DecodedExtrinsic: Sendable, Hashable {
    /// The complete extrinsic bytes, including the compact length prefix.
    public let bytes: [UInt8]
    public let version: UInt8
    public let signature: ExtrinsicSignature?
    public let call: DecodedCall

    public var isSigned: Bool { signature != nil }

    /// The signer's AccountId32 when the address is `MultiAddress::Id` (or a plain AccountId32 address type).
    public var signer: [UInt8]? {
        guard let address = signature?.address else { return nil }
        if case .variant(let v) = address, v.name != "Id" { return nil }
        return address.accountId32
    }

    /// The extrinsic hash: blake2b-256 of the complete bytes, including the length prefix.
    public var hash: [UInt8] { SubstrateHash.blake2b256(bytes) }

    /// The nonce from `CheckNonce`, if signed.
    public var nonce: UInt64? { signature?.extensionValue("CheckNonce")?.asUInt64 }

    /// The tip from `ChargeTransactionPayment` (or `ChargeAssetTxPayment`), if signed.
    public var tip: UInt128? {
        if let v = signature?.extensionValue("ChargeTransactionPayment") { return v.asUInt128 ?? v["tip"]?.asUInt128 }
        return signature?.extensionValue("ChargeAssetTxPayment")?["tip"]?.asUInt128
    }
}

extension RuntimeMetadata {
    /// Decodes one extrinsic: compact length prefix, version byte, optional address/signature/extensions, call.
    /// Strict: the declared length must match the input exactly and the body must be fully consumed, so
    /// decoding with another runtime's metadata fails instead of returning a plausible wrong answer.
    public func decodeExtrinsic(_ bytes: [UInt8]) throws(ScaleError) -> DecodedExtrinsic {
        var r = ScaleReader(bytes)
        let lengthOffset = r.offset
        let length = try r.readLength("Extrinsic length")
        if length != r.remaining {
            if length > r.remaining {
                throw ScaleError(.truncated(needed: length, available: r.remaining), offset: lengthOffset, typeName: "Extrinsic")
            }
            throw ScaleError(.trailingBytes(r.remaining - length), offset: r.offset + length, typeName: "Extrinsic")
        }
        let versionOffset = r.offset
        let versionByte = try r.readU8("Extrinsic version")
        let version = versionByte & 0x7f
        guard version == 4 else {
            throw ScaleError(.invalidValue("extrinsic format version \(version) is not supported (only 4)"), offset: versionOffset, typeName: "Extrinsic version")
        }
        var signature: ExtrinsicSignature?
        if versionByte & 0x80 != 0 {
            let address = try registry.decode(extrinsic.addressTypeId, from: &r)
            let signatureValue = try registry.decode(extrinsic.signatureTypeId, from: &r)
            var extensions: [ScaleField] = []
            extensions.reserveCapacity(extrinsic.signedExtensions.count)
            for ext in extrinsic.signedExtensions {
                extensions.append(ScaleField(name: ext.identifier, value: try registry.decode(ext.typeId, from: &r)))
            }
            signature = ExtrinsicSignature(address: address, signature: signatureValue, extensions: extensions)
        }
        let callOffset = r.offset
        let callValue = try registry.decode(extrinsic.callTypeId, from: &r)
        try r.expectEnd("Extrinsic")
        guard let call = DecodedCall(callValue, callTypeId: extrinsic.callTypeId) else {
            throw ScaleError(.invalidValue("the call type is not a pallet/call enum"), offset: callOffset, typeName: "RuntimeCall")
        }
        return DecodedExtrinsic(bytes: bytes, version: version, signature: signature, call: call)
    }

    /// Decodes a bare call (no extrinsic envelope), e.g. the call inside a multisig or a signing payload.
    public func decodeCall(_ bytes: [UInt8]) throws(ScaleError) -> DecodedCall {
        let value = try registry.decode(extrinsic.callTypeId, from: bytes)
        guard let call = DecodedCall(value, callTypeId: extrinsic.callTypeId) else {
            throw ScaleError(.invalidValue("the call type is not a pallet/call enum"), offset: 0, typeName: "RuntimeCall")
        }
        return call
    }

    /// Encodes an extrinsic from its decoded parts, including the compact length prefix.
    public func encodeExtrinsic(_ decoded: DecodedExtrinsic) throws(ScaleEncodingError) -> [UInt8] {
        var body = ScaleWriter(capacity: decoded.bytes.count)
        if let signature = decoded.signature {
            body.writeU8(0x80 | decoded.version)
            try registry.encode(signature.address, as: extrinsic.addressTypeId, into: &body)
            try registry.encode(signature.signature, as: extrinsic.signatureTypeId, into: &body)
            guard signature.extensions.count == extrinsic.signedExtensions.count else {
                throw ScaleEncodingError("expected \(extrinsic.signedExtensions.count) signed extension values", typeName: "Extrinsic")
            }
            for (ext, field) in zip(extrinsic.signedExtensions, signature.extensions) {
                try registry.encode(field.value, as: ext.typeId, into: &body)
            }
        } else {
            body.writeU8(decoded.version)
        }
        try registry.encode(decoded.call.value, as: extrinsic.callTypeId, into: &body)
        var out = ScaleWriter(capacity: body.bytes.count + 5)
        out.writeByteVector(body.bytes)
        return out.bytes
    }
}
