import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// Renders `ctl status` rows as an aligned, human-readable table.
enum StatusTable {
    static let header = ["WORKER", "PID", "STATE", "UPTIME", "RESTARTS", "LAST EXIT"]

    static func render(_ rows: [WorkerStatus]) -> String {
        let cells = [header] + rows.map { row in
            [
                row.name,
                row.pid.map(String.init) ?? "-",
                row.state,
                row.uptimeSeconds.map(formatUptime) ?? "-",
                String(row.restarts),
                row.lastExit ?? "-",
            ]
        }
        let widths = header.indices.map { column in cells.map { $0[column].count }.max() ?? 0 }
        return cells.map { line in
            line.indices.map { column in
                column == line.count - 1 ? line[column] : line[column].padding(to: widths[column])
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// `42s`, `3m07s`, `5h02m`, `2d03h`.
    static func formatUptime(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.down))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(twoDigits(total % 60))s" }
        if total < 86400 { return "\(total / 3600)h\(twoDigits(total % 3600 / 60))m" }
        return "\(total / 86400)d\(twoDigits(total % 86400 / 3600))h"
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}

private extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
