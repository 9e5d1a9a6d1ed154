import Metrics
import Prometheus
import Wire
import SubstratePrimitives

/// Every worker's metrics: swift-metrics bootstrapped with swift-prometheus over one registry, whose text
/// exposition goes to the supervisor with each heartbeat (`WorkerHeartbeat.metrics`). The supervisor serves
/// the aggregate on `/metrics` with a `worker` label added to every sample.
public final class WorkerMetricsExport: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// The factory that records into `registry` (timers become histograms in seconds).
    public var factory: PrometheusMetricsFactory {
        PrometheusMetricsFactory(registry: registry)
    }

    /// Bootstraps the process-wide `MetricsSystem` with this export's factory. Call once, first thing in
    /// `main` (before metrics objects are made); `WorkerRuntime.start` does.
    public func bootstrap() {
        MetricsSystem.bootstrap(factory)
    }

    /// The text exposition, cut at a family boundary to at most `limit` bytes so that it fits in one control frame.
    public func exposition(limit: Int = WorkerHeartbeat.maxMetricsBytes) -> String {
        Self.truncated(registry.emitToString(), limit: limit)
    }

    /// `text` when it fits in `limit` bytes; else the longest prefix that ends before a `# TYPE`/`# HELP` line
    /// (a whole number of families), so the result is still valid text format.
    public static func truncated(_ text: String, limit: Int) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count > limit else { return text }
        var cut = 0
        var index = 0
        // Family starts are lines beginning with "# " right after a newline (or at the very start).
        while index < bytes.count, index <= limit {
            let lineStart = index == 0 || bytes[index - 1] == UInt8(ascii: "\n")
            if lineStart, bytes[index] == UInt8(ascii: "#") { cut = index }
            index += 1
        }
        // Never cut inside the leading comment block of a family: back up to the first comment of the run.
        while cut > 0 {
            var previousLineStart = cut - 1
            while previousLineStart > 0, bytes[previousLineStart - 1] != UInt8(ascii: "\n") { previousLineStart -= 1 }
            if bytes[previousLineStart] == UInt8(ascii: "#") { cut = previousLineStart } else { break }
        }
        return String(decoding: bytes[..<cut], as: UTF8.self)
    }
}
