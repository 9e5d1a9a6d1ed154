/// The one tuning setting of every process (INTERFACE.md, "Semantics", 14): `CHAIN_ALERTER_TUNING`, a
/// comma-separated list of `scope.key=value`, for intervals that tests cannot wait out (heartbeats, debounce
/// windows, cursor timeouts, ticks). A knob changes when things happen, never what the product does. Unknown
/// keys are ignored, so one value serves every worker: each reads its own scope.
///
/// Scopes and keys (values in milliseconds unless said):
/// - `supervisor`: heartbeat, ready, grace, stop, notifier-stop, kill-wait, shutdown-budget, backoff, max-backoff,
///   min-uptime, stable, window, restarts (a count);
/// - `fork`: cursorWait, cursorStuck, tick, lagSustain, latencySustain, disconnectAfter, reconnectStable, stale,
///   settle, window (blocks), gapLimit (blocks).
public enum Tuning {
    public static let variable = "CHAIN_ALERTER_TUNING"

    /// The `key=value` pairs of `scope`, in the order given (a later one wins when applied in order).
    public static func values(scope: String, environment: [String: String]) -> [(key: String, value: String)] {
        let prefix = scope + "."
        return (environment[variable] ?? "").split(separator: ",").compactMap { part in
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, kv[0].hasPrefix(prefix) else { return nil }
            return (String(kv[0].dropFirst(prefix.count)), kv[1])
        }
    }

    /// `values` as a dictionary of integers (entries that are not integers are ignored).
    public static func integers(scope: String, environment: [String: String]) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for (key, value) in values(scope: scope, environment: environment) {
            if let n = Int64(value) { out[key] = n }
        }
        return out
    }
}
