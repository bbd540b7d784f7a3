import Foundation

/// A fresh directory under the system temp folder, removed when the value is deallocated.
///
/// Each test makes its own, so tests never share files.
public final class TemporaryDirectory: Sendable {
    /// The directory's path.
    public let path: String

    /// Creates a new, empty directory.
    public init(_ label: String = "quill-test") {
        let template = NSTemporaryDirectory() + "/\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        let created = bytes.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let created else { preconditionFailure("mkdtemp failed for \(template): errno \(errno)") }
        path = created
    }

    deinit {
        if ProcessInfo.processInfo.environment["QUILL_KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// A path inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes text to a file inside the directory, creating folders, and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try Data(text.utf8).write(to: URL(fileURLWithPath: target))
        return target
    }
}

/// Waits, polling, until a condition holds; returns whether it did before the timeout.
///
/// For state that lives in files or other processes, where no event can be awaited.
public func eventually(
    timeout: Duration = .seconds(10),
    poll: Duration = .milliseconds(10),
    _ condition: () throws -> Bool
) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: poll)
    }
    return try condition()
}
