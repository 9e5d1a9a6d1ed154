import Wire
import SubstratePrimitives
extension Configuration {
    /// The effective configuration as TOML, for `supervisor check-config`. The Slack token is never read
    /// into it; passwords in the store URL and the paths/queries of webhook and push URLs (which carry
    /// tokens) are replaced by `***`.
    public func redactedSummary() -> String {
        func q(_ s: String) -> String {
            var out = "\""
            for c in s {
                switch c {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default: out.append(c)
                }
            }
            return out + "\""
        }
        func list(_ items: [String]) -> String { "[" + items.map(q).joined(separator: ", ") + "]" }
        func seconds(_ d: Duration) -> String {
            let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
            return ms % 1000 == 0 ? q("\(ms / 1000)s") : q("\(ms)ms")
        }
        var lines: [String] = [
            "# chain-alerter effective configuration (secrets redacted)",
            "name = \(q(name))",
            "node_rpc_url = \(list(nodeRPCURLs))",
            "icon = \(q(icon))",
            "production = \(production)",
            "slack = \(slack)",
            "slack_secret_path = \(q(slackSecretPath))   # token: \(slack ? "present, redacted" : "not used")",
            "slack_api_url = \(q(slackAPIURL))",
            "slack_channel = \(q(slackChannel))",
            "slack_production_channel = \(q(slackProductionChannel))",
            "uptime_kuma_url = \(list(uptimeKumaURLs.map(Redaction.redactURLPath)))",
            "webhook_url = \(list(webhookURLs.map(Redaction.redactURLPath)))",
        ]
        if let alertLimit { lines.append("alert_limit = \(alertLimit)") }
        lines += [
            "test_startup = \(testStartup)",
            "store = \(q(store.description))",
            "state_dir = \(q(stateDirectory))",
            "http_listen = \(q(httpListen.description))",
        ]
        if let configFile { lines.append("# read from \(configFile)") }
        let a = alerts
        lines += [
            "", "[alerts]",
            "block_stall = \(seconds(a.blockStall))",
            "block_resume = \(seconds(a.blockResume))",
            "chain_time_gap = \(seconds(a.chainTimeGap))",
            "large_transfer = \(q(a.largeTransfer))",
            "fork_alert_depth = \(a.forkAlertDepth)",
            "side_fork_realert_every = \(a.sideForkRealertEvery)",
            "backwards_reorg_depth = \(a.backwardsReorgDepth)",
            "slot_window = \(a.slotWindow)",
            "slot_slow_ratio = \(a.slotSlowRatio)",
            "slot_fast_ratio = \(a.slotFastRatio)",
            "farmer_window = \(a.farmerWindow)",
            "farmer_history = \(a.farmerHistory)",
            "farmer_decrease_fraction = \(a.farmerDecreaseFraction)",
            "farmer_increase_fraction = \(a.farmerIncreaseFraction)",
            "startup_context_blocks = \(a.startupContextBlocks)",
            "node_lag_isolate = \(a.nodeLagIsolate)",
            "node_latency_isolate = \(seconds(a.nodeLatencyIsolate))",
            "node_recover_after = \(seconds(a.nodeRecoverAfter))",
        ]
        for address in importantAddresses {
            lines += ["", "[[important_addresses]]", "name = \(q(address.name))", "address = \(q(address.address))"]
        }
        for network in networks {
            lines += ["", "[[networks]]", "name = \(q(network.name))"]
            if let v = network.genesisHash { lines.append("genesis_hash = \(q(v))") }
            if let v = network.tokenSymbol { lines.append("token_symbol = \(q(v))") }
            if let v = network.decimals { lines.append("decimals = \(v)") }
            if let v = network.ss58Prefix { lines.append("ss58_prefix = \(v)") }
            if let v = network.explorerURL { lines.append("explorer_url = \(q(v))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
