import Foundation

/// Where a worker reads the wall clock: for timestamps shown to people, chain time and due times persisted in
/// the store, never for measuring a duration (that is the injected monotonic `Clock`'s job, so a wall clock
/// stepped by an hour cannot shorten or stretch a wait). Tests inject a fixed or stepping source.
public struct WallClock: Sendable {
    public var now: @Sendable () -> Date

    public init(_ now: @escaping @Sendable () -> Date) { self.now = now }

    /// The system's clock.
    public static let system = WallClock { Date() }

    /// Milliseconds since the Unix epoch, as alerts and chain timestamps carry them.
    public var milliseconds: UInt64 { UInt64(max(0, now().timeIntervalSince1970) * 1000) }
}
