import Foundation

/// A fresh directory under /tmp with a short name (ipc:// socket paths must fit in 107 bytes); `remove()` deletes it.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "ca") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestKitError.setup("mkdtemp failed: \(String(cString: strerror(errno)))") }
        path = String(cString: made)
    }

    /// The path of `name` inside this directory.
    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
