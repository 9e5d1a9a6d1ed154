import Wire
import SubstratePrimitives
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A secret (the Slack bot token) read from a file that only its owner may read.
/// The bytes are zeroed when the last reference goes away; the value never prints itself.
public final class Secret: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    // Immutable after init; zeroed only in deinit when no other reference exists.
    private var storage: [UInt8]

    public init(bytes: [UInt8]) { storage = bytes }

    deinit {
        storage.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { memset_s_portable(base, raw.count) }
        }
    }

    /// Calls `body` with the secret's bytes; do not let them escape.
    public func withBytes<R>(_ body: ([UInt8]) throws -> R) rethrows -> R { try body(storage) }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// Zeroing that the optimiser may not remove.
@inline(never)
package func memset_s_portable(_ pointer: UnsafeMutableRawPointer, _ count: Int) {
    let volatile = pointer.bindMemory(to: UInt8.self, capacity: count)
    for i in 0 ..< count { volatile[i] = 0 }
}

/// Reading and checking secret files. Error messages name the file and the fix, never the content.
public enum SecretFile {
    /// Checks that `path` is a regular file with mode 0400 or 0600 and a non-empty (trimmed) content.
    public static func validate(path: String, option: String) throws(ConfigError) {
        _ = try read(path: path, option: option)
    }

    /// Reads the secret, trimming surrounding whitespace.
    public static func read(path: String, option: String) throws(ConfigError) -> Secret {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            throw ConfigError(option: option, problem: "cannot read the secret file '\(path)' (\(reason))",
                              fix: "create it with the bot token and `chmod 600 \(path)`, or pass --slack=false to run without Slack")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ConfigError(option: option, problem: "'\(path)' is not a regular file", fix: "point \(option) at the file that holds the token")
        }
        let mode = info.st_mode & 0o777
        guard mode == 0o400 || mode == 0o600 else {
            throw ConfigError(option: option,
                              problem: "the secret file '\(path)' has mode \(String(mode, radix: 8, uppercase: false).leftPadded(to: 4)); it must be readable only by its owner (0400 or 0600)",
                              fix: "run `chmod 600 \(path)`")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw ConfigError(option: option, problem: "cannot open the secret file '\(path)' (\(reason))",
                              fix: "make it readable by the user chain-alerter runs as")
        }
        defer { close(fd) }
        var content = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            content.append(contentsOf: chunk[0 ..< n])
            if content.count > 64 * 1024 { break }
        }
        chunk.withUnsafeMutableBytes { memset_s_portable($0.baseAddress!, $0.count) }
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        let start = content.firstIndex(where: { !isSpace($0) })
        let end = content.lastIndex(where: { !isSpace($0) })
        defer { content.withUnsafeMutableBytes { if let b = $0.baseAddress { memset_s_portable(b, $0.count) } } }
        guard let start, let end else {
            throw ConfigError(option: option, problem: "the secret file '\(path)' is empty", fix: "write the Slack bot token into it")
        }
        return Secret(bytes: Array(content[start ... end]))
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
