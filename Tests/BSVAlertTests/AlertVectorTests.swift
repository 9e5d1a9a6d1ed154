import Testing
@testable import BSVAlert

/// Every vector of `conformance/bsv-alert/vectors.json` through the module: parse, hash, each signature,
/// the verdict under the local/test genesis keys, the payload, the node call, the key rotation, the outcome.
@Suite(.enabled(if: BSVConformance.isAvailable, "bsv-alert conformance data not present"))
struct AlertVectorTests {
    static let localKeys = AlertKeySet.genesis(.local)

    @Test(arguments: BSVConformance.vectorIndices)
    func vector(_ index: Int) throws {
        let vector = BSVConformance.vectors[index]
        let name = vector["name"]?.stringValue ?? "#\(index)"
        let expected = try #require(vector["expected"], "\(name): no expected")
        let raw = try bytes(hex: try #require(vector["raw_hex"]?.stringValue))

        // Header fields are readable whenever there are 20 bytes, even when the rest does not parse.
        let header = AlertHeader(raw: raw)
        if let version = expected["version"]?.intValue {
            let header = try #require(header, "\(name): header should be readable")
            #expect(Int64(header.version) == version)
            #expect(Int64(header.sequence) == expected["sequence"]?.intValue)
            #expect(Int64(header.timestamp) == expected["timestamp"]?.intValue)
            #expect(Int64(header.type.rawValue) == expected["type"]?.intValue)
            #expect(header.type.name == expected["type_name"]?.stringValue)
        } else {
            #expect(header == nil, "\(name): header should not be readable")
        }
        if let headerHash = expected["hash_of_first_20_bytes"]?.stringValue {
            #expect(AlertHash(of: Array(raw.prefix(20))).displayHex == headerHash)
        }

        let parsed: AlertMessage
        switch expected["parse"]?.stringValue {
        case "error":
            #expect(throws: (any Error).self) { try AlertMessage(raw: raw) }
            do { _ = try AlertMessage(raw: raw) } catch { #expect(error.description == expected["parse_error"]?.stringValue, "\(name)") }
            return
        case "ok":
            parsed = try AlertMessage(raw: raw)
        default:
            Issue.record("\(name): unknown parse expectation")
            return
        }

        #expect(HexEncoding.encode(parsed.payload) == expected["payload_hex"]?.stringValue, "\(name): payload")
        #expect(HexEncoding.encode(parsed.data) == expected["data_hex"]?.stringValue, "\(name): data")
        #expect(parsed.hash.displayHex == expected["hash"]?.stringValue, "\(name): hash")

        // Each signature: header, r, s, the recovered key (or why none is recovered), and which key it is.
        let expectedSignatures = expected["signatures"]?.arrayValue ?? []
        #expect(parsed.signatures.count == expectedSignatures.count, "\(name): signature count")
        let digest = BitcoinSignedMessage.digest(alertData: parsed.data)
        let verdict = AlertVerifier.verify(parsed, keys: Self.localKeys)
        for (position, (signature, want)) in zip(parsed.signatures, expectedSignatures).enumerated() {
            #expect(Int64(signature.header) == want["header"]?.intValue, "\(name) sig \(position + 1) header")
            #expect(HexEncoding.encode(signature.r) == want["r"]?.stringValue, "\(name) sig \(position + 1) r")
            #expect(HexEncoding.encode(signature.s) == want["s"]?.stringValue, "\(name) sig \(position + 1) s")
            let recovery = Secp256k1Recovery.recover(signature, digest: digest)
            if case .string(let key)? = want["recovered_pubkey"] {
                #expect(recovery == .recovered(try AlertPublicKey(hex: key)), "\(name) sig \(position + 1) recovered key")
                #expect(want["status"]?.stringValue == "ok")
            } else {
                #expect(verdict.checks[position].problem == want["status"]?.stringValue, "\(name) sig \(position + 1) status")
            }
            #expect(verdict.signers[position].map { AlertJSON.string($0.hex) } ?? .null == BSVConformance.signerHex(want["matches"] ?? .null),
                    "\(name) sig \(position + 1) signer")
        }
        #expect(verdict.isValid == expected["verify"]?.boolValue, "\(name): verify")
        if let signers = expected["signers"]?.arrayValue {
            #expect(verdict.signers.map { AlertJSON.optional($0?.hex) } == signers.map(BSVConformance.signerHex), "\(name): signers")
        }

        // The payload, and the node call it requires.
        let payload = Result { () throws(AlertPayloadError) -> AlertPayload in try AlertPayload(type: parsed.type, bytes: parsed.payload) }
        let expectedPayload = try #require(expected["payload"], "\(name): no payload expectation")
        switch payload {
        case .success(let decoded):
            #expect(decoded.json.canonical == expectedPayload.canonical, "\(name): payload fields")
            let calls = decoded.nodeCalls
            if let rpc = expected["rpc"], rpc != .null {
                #expect(calls.count == 1, "\(name): one node call")
                #expect(calls.first?.method == rpc["method"]?.stringValue, "\(name): method")
                #expect(calls.first.map { AlertJSON.array($0.params).canonical } == rpc["params"]?.canonical, "\(name): params")
            } else {
                #expect(calls.isEmpty, "\(name): no node call")
            }
        case .failure(let error):
            #expect(expectedPayload["ok"] == .bool(false), "\(name): payload should decode, got \(error)")
            #expect(error.description == expectedPayload["error"]?.stringValue, "\(name): payload error")
        }

        // Set Keys: the active set afterwards is exactly the alert's keys, marked with its hash.
        if let rotation = expected["key_rotation"], rotation != .null, case .success(.setKeys(let keys)) = payload {
            let rotated = try Self.localKeys.rotated(by: keys, alertHash: parsed.hash)
            #expect(rotated.keys.map { AlertJSON.string($0.hex) } == rotation["new_active_keys"]?.arrayValue, "\(name): new active keys")
            #expect(rotated.lastUpdateHash?.displayHex == rotation["last_update_hash"]?.stringValue, "\(name): last update hash")
        }

        // The whole verdict, as inspect reports it.
        let inspection = AlertInspection(raw: raw, keys: Self.localKeys)
        let outcome = try #require(expected["outcome"]?.stringValue)
        if outcome == "accept" {
            #expect(inspection.isValid, "\(name): should be accepted, reasons \(inspection.reasons)")
        } else {
            #expect(!inspection.isValid, "\(name): should be rejected")
            let reason = String(outcome.dropFirst("reject: ".count))
            #expect(inspection.reasons.contains(reason), "\(name): reasons \(inspection.reasons) lack \(reason)")
        }
    }

    @Test(arguments: BSVConformance.payloadVectorIndices)
    func payloadVector(_ index: Int) throws {
        let vector = BSVConformance.payloadVectors[index]
        let name = vector["name"]?.stringValue ?? "#\(index)"
        let type = AlertType(rawValue: UInt32(try #require(vector["type"]?.intValue)))
        let payload = try bytes(hex: try #require(vector["payload_hex"]?.stringValue))
        let expected = try #require(vector["expected"])
        do {
            let decoded = try AlertPayload(type: type, bytes: payload)
            #expect(expected["ok"] == .bool(true), "\(name): should fail")
            for field in ["peer", "reason", "block_hash", "message_length", "message_hex", "message_utf8"] {
                if let want = expected[field] { #expect(decoded.json[field]?.canonical == want.canonical, "\(name): \(field)") }
            }
            if let rpc = expected["rpc"] {
                #expect(decoded.nodeCalls.first?.method == rpc["method"]?.stringValue, "\(name): method")
                #expect(decoded.nodeCalls.first.map { AlertJSON.array($0.params).canonical } == rpc["params"]?.canonical, "\(name): params")
            }
        } catch {
            #expect(expected["ok"] == .bool(false), "\(name): should decode, got \(error)")
            #expect(error.description == expected["error"]?.stringValue, "\(name)")
        }
    }

    /// The reference's own BSM signatures of "test data" (utils/keys_test.go), reproduced and recovered.
    @Test func bitcoinSignedMessageVectors() throws {
        let keys = BSVConformance.testSigningKeys
        try #require(keys.count == 5)
        #expect(BSVConformance.signatureVectors.count == 3)
        for (index, vector) in BSVConformance.signatureVectors.enumerated() {
            let message = Array(try #require(vector["signed_message"]?.stringValue).utf8)
            #expect(HexEncoding.encode(BitcoinSignedMessage.digest(message)) == vector["bsm_digest"]?.stringValue)
            let signature = keys[index].signMessage(message)
            #expect(signature.hex == vector["signature"]?.stringValue, "Key\(index + 1)")
            #expect(Secp256k1Recovery.recover(signature, digest: BitcoinSignedMessage.digest(message)) == .recovered(keys[index].publicKey))
        }
    }

    /// Our signer reproduces every derived vector's signatures byte for byte (RFC 6979, low-S, header 31..34).
    @Test func signerReproducesDerivedVectors() throws {
        let keys = BSVConformance.testSigningKeys
        try #require(keys.count == 5)
        var reproduced = 0
        for vector in BSVConformance.vectors where vector["category"]?.stringValue == "derived" {
            guard let message = try? AlertMessage(raw: try bytes(hex: vector["raw_hex"]?.stringValue ?? "")) else { continue }
            let signers = (vector["expected"]?["signers"]?.arrayValue ?? []).compactMap(\.stringValue)
            for (signature, label) in zip(message.signatures, signers) {
                let index = try #require(Int(label.dropFirst(5).dropLast()))
                #expect(keys[index].sign(alertData: message.data) == signature, "\(vector["name"]?.stringValue ?? "")")
                reproduced += 1
            }
        }
        #expect(reproduced >= 24)
    }

    /// The genesis alert: its data and hash, and its raw form re-made with the public test keys Key1..Key3.
    @Test func genesisAlertIsTheReferences() throws {
        let vector = try #require(BSVConformance.vectors.first { $0["expected"]?["sequence"] == .int(0) })
        let raw = try bytes(hex: try #require(vector["raw_hex"]?.stringValue))
        #expect(GenesisAlert.hash.displayHex == vector["expected"]?["hash_of_data"]?.stringValue)
        #expect(Array(raw.prefix(20)) == GenesisAlert.data)
        let keys = BSVConformance.testSigningKeys
        try #require(keys.count == 5)
        #expect(GenesisAlert.data + keys[0 ..< 3].flatMap { $0.sign(alertData: GenesisAlert.data).bytes } == raw)
        #expect(AlertInspection(raw: raw, keys: AlertKeySet.genesis(.local)).reasons.contains(AlertInspection.genesisReason))
    }

    /// The genesis key sets we ship are the reference's, as `keys.json` lists them.
    @Test func genesisKeySetsMatchTheReference() throws {
        for (network, file) in [(AlertNetwork.mainnet, "mainnet"), (.testnet, "testnet"), (.stn, "stn"), (.local, "local")] {
            #expect(AlertKeySet.genesis(network).keys.map(\.hex) == BSVConformance.genesisKeys(file), "\(network)")
        }
        #expect(BSVConformance.genesisKeys("production") == BSVConformance.genesisKeys("mainnet"))
        #expect(Set(BSVConformance.testSigningKeys.map(\.publicKey)) == AlertKeySet.publicTestKeys)
    }
}
