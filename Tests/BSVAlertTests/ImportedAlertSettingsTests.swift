import Testing
@testable import BSVAlert

/// The reference's JSON config, Teranode's `alert_*` settings and their environment variables.
@Suite struct ImportedAlertSettingsTests {
    /// The shape of the reference's `app/config/envs/mainnet.json`, with a password and a key filled in.
    static let referenceConfig = """
    {
      "alert_webhook_url": "https://hooks.example/alerts",
      "genesis_keys": ["02a1589f2c8e1a4e7cbf28d4d6b676aa2f30811277883211027950e82a83eb2768"],
      "alert_processing_interval": "1h30m",
      "environment": "production",
      "datastore": {"engine": "sqlite", "table_prefix": "alert_system", "password": "",
                    "sqlite": {"database_path": "alert_system_datastore.db", "shared": false}},
      "p2p": {"ip": "0.0.0.0", "port": "9906", "alert_system_protocol_id": "/bitcoin/alert-system/1.0.0",
              "bootstrap_peer": "", "private_key": "aabb", "private_key_path": "", "topic_name": "bitcoin_alert_system",
              "allow_private_ip_addresses": true, "peer_discovery_interval": "90s"},
      "rpc_connections": [
        {"user": "a", "password": "", "host": "http://localhost:8332"},
        {"user": "b", "password": "s3cret", "host": "http://node2:8332"}
      ]
    }
    """

    @Test func referenceJSON() throws {
        let settings = try ImportedAlertSettings.parse(fileContents: Self.referenceConfig)
        #expect(settings.network == .mainnet)
        #expect(settings.genesisKeys == ["02a1589f2c8e1a4e7cbf28d4d6b676aa2f30811277883211027950e82a83eb2768"])
        #expect(settings.webhookURL == "https://hooks.example/alerts")
        #expect(settings.processingInterval == .seconds(5400))
        #expect(settings.p2pPort == 9906)
        #expect(settings.protocolID == "/bitcoin/alert-system/1.0.0")
        #expect(settings.topic == "bitcoin_alert_system")
        #expect(settings.bootstrapPeers.isEmpty, "an empty string is absent")
        #expect(settings.p2pPrivateKeyPath == nil)
        #expect(settings.allowPrivateAddresses == true)
        #expect(settings.peerDiscoveryInterval == .seconds(90))
        #expect(settings.store == .sqlitePath("alert_system_datastore.db"))
        // Every rpc_connections entry is kept (the reference used only the last).
        #expect(settings.nodeRPC.map(\.url) == ["http://localhost:8332", "http://node2:8332"])
        #expect(settings.inlineSecrets == ["rpc_connections[1].password", "p2p.private_key"])
        #expect(!settings.description.contains("s3cret") && !settings.description.contains("aabb"), "secrets are never shown")
    }

    @Test func referenceJSONErrorsNameTheKey() throws {
        #expect(throws: AlertSettingsError.invalid(key: "p2p.port", value: "99999", expected: "a port number 1-65535")) {
            try ImportedAlertSettings.referenceJSON(Array(#"{"p2p":{"port":"99999"}}"#.utf8))
        }
        #expect(throws: AlertSettingsError.invalid(key: "alert_processing_interval", value: "5 minutes", expected: "a duration such as 5m or 90s")) {
            try ImportedAlertSettings.referenceJSON(Array(#"{"alert_processing_interval":"5 minutes"}"#.utf8))
        }
        #expect(throws: AlertSettingsError.invalid(key: "environment", value: "regtest", expected: "mainnet, production, testnet, stn, local or test")) {
            try ImportedAlertSettings.referenceJSON(Array(#"{"environment":"regtest"}"#.utf8))
        }
        #expect(throws: AlertSettingsError.notJSON) { try ImportedAlertSettings.referenceJSON(Array("{not json".utf8)) }
        #expect(try ImportedAlertSettings.referenceJSON(Array(#"{"datastore":{"engine":"sqlite","sqlite":{"database_path":""}}}"#.utf8)).store == .memory)
    }

    @Test func teranodeSettingsFile() throws {
        let text = """
        # Teranode settings_local.conf
        alert_store = sqlite:///alert
        alert_genesis_keys = 02a1589f2c8e1a4e7cbf28d4d6b676aa2f30811277883211027950e82a83eb2768 | 03aec1d40f02ac7f6df701ef8f629515812f1bcd949b6aa6c7a8dd778b748b2433
        alert_p2p_private_key = 00ff
        alert_protocol_id = /bitcoin/alert-system/1.0.0
        alert_topic_name = bitcoin_alert_system
        alert_p2p_port = 9908
        alert_p2p_port.docker = 1234
        asset_httpPort = 8090
        """
        let settings = try ImportedAlertSettings.parse(fileContents: text)
        #expect(settings.store == .sqliteName("alert"))
        #expect(settings.genesisKeys?.count == 2)
        #expect(settings.p2pPrivateKeyHex == "00ff")
        #expect(settings.p2pPort == 9908, "a context override is not the plain key")
        #expect(settings.topic == "bitcoin_alert_system")
        #expect(settings.inlineSecrets == ["alert_p2p_private_key (settings)"])
        #expect(throws: AlertSettingsError.malformedLine(2)) { try ImportedAlertSettings.teranodeSettings("alert_store = sqlite:///a\njust words\n") }
        let postgres = try ImportedAlertSettings.teranodeSettings("alert_store = postgres://user:pw@db:5432/alerts")
        #expect(postgres.store == .server("postgres://user:pw@db:5432/alerts"))
        #expect(postgres.inlineSecrets == ["alert_store (settings)"])
        #expect(try ImportedAlertSettings.teranodeSettings("alert_store = postgres://db:5432/alerts").inlineSecrets.isEmpty)
    }

    @Test func environmentOverFile() throws {
        let file = try ImportedAlertSettings.parse(fileContents: Self.referenceConfig)
        let settings = try file.applyingEnvironment([
            "ALERT_SYSTEM_ENVIRONMENT": "stn", "ALERT_SYSTEM_P2P__PORT": "9000", "ALERT_SYSTEM_GENESIS_KEYS": "aa, bb",
            "TERANODE_ALERT_TOPIC_NAME": "bitcoin_alert_system_stn", "ALERT_P2P_PORT": "9911", "UNRELATED": "x",
            "ALERT_SYSTEM_ALERT_WEBHOOK_URL": "",
        ])
        #expect(settings.network == .stn)
        #expect(settings.genesisKeys == ["aa", "bb"])
        #expect(settings.topic == "bitcoin_alert_system_stn")
        #expect(settings.p2pPort == 9911, "Teranode's ALERT_P2P_PORT is applied after ALERT_SYSTEM_P2P__PORT")
        #expect(settings.webhookURL == "https://hooks.example/alerts", "an empty variable does not clear a setting")
        #expect(throws: AlertSettingsError.self) { try file.applyingEnvironment(["TERANODE_ALERT_P2P_PORT": "port"]) }
    }

    @Test func goDurations() throws {
        #expect(try ImportedAlertSettings.goDuration("5m", key: "k") == .seconds(300))
        #expect(try ImportedAlertSettings.goDuration("500ms", key: "k") == .milliseconds(500))
        #expect(try ImportedAlertSettings.goDuration("1h2m3s", key: "k") == .seconds(3723))
        for bad in ["", "5", "m", "5d", "-5m", "5 m"] {
            #expect(throws: AlertSettingsError.self) { try ImportedAlertSettings.goDuration(bad, key: "k") }
        }
    }
}
