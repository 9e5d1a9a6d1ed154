import Wire
import SubstratePrimitives
/// A configuration problem a person can fix. Processes exit with `ConfigError.exitCode` (78, EX_CONFIG)
/// and systemd/the supervisor never restart them for it.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Exit status for bad configuration (sysexits EX_CONFIG). Never retried.
    public static let exitCode: Int32 = 78

    /// The option as the user would write it on the command line, e.g. `--slack-secret-path`.
    public var option: String
    /// What is wrong with it.
    public var problem: String
    /// What to do about it.
    public var fix: String

    public init(option: String, problem: String, fix: String) {
        self.option = option
        self.problem = problem
        self.fix = fix
    }

    public var description: String {
        "configuration error in \(option): \(problem). Fix: \(fix)"
    }
}
