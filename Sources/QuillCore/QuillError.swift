import Foundation

/// The one error type Quill throws.
///
/// Shaped like NIO's `FileSystemError`: a broad ``Code`` to switch on, a ``message`` that says what failed
/// and what to do next, an optional underlying cause and the source location that raised it.
///
/// ```swift
/// do {
///     try run.log("loss", 0.5)
/// } catch let error as QuillError where error.code == .runFinished {
///     print(error.message)
/// }
/// ```
public struct QuillError: Error, Sendable, CustomStringConvertible {
    /// A broad class of failure. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) { self.name = name }

        /// The code's stable name, as printed by the CLI and written in `--json` errors.
        public var description: String { name }

        /// Logging was attempted after the run finished.
        public static let runFinished = Code("run_finished")
        /// A run, project or file that was asked for does not exist.
        public static let notFound = Code("not_found")
        /// A name given on the command line matches more than one run.
        public static let ambiguous = Code("ambiguous")
        /// An argument is malformed or out of range.
        public static let invalidArgument = Code("invalid_argument")
        /// A file could not be parsed.
        public static let malformed = Code("malformed")
        /// Reading or writing a file failed.
        public static let io = Code("io")
        /// A child process could not be started or failed.
        public static let process = Code("process")
        /// The background writer failed; rows that were not written are counted in the message.
        public static let writerFailed = Code("writer_failed")
        /// A request or upload is larger than the server accepts.
        public static let payloadTooLarge = Code("payload_too_large")
        /// The request conflicts with the current state (a taken name, a finished run).
        public static let conflict = Code("conflict")
        /// The request carries no valid credentials (missing, unknown or revoked API key).
        public static let unauthorized = Code("unauthorized")
        /// The caller is known but may not do this (for example, write to a project it may only read).
        public static let forbidden = Code("forbidden")
        /// An uploaded file is larger than the server's per-file limit.
        public static let artifactTooLarge = Code("artifact_too_large")
        /// A namespace has used up its storage quota.
        public static let quotaExceeded = Code("quota_exceeded")
        /// A well-formed request names something else (a parent run) that does not exist or that the caller
        /// may not read; the two look the same, so nothing leaks.
        public static let unknownReference = Code("unknown_reference")
        /// A resource the request needs is busy or briefly unavailable (a database locked by another writer for
        /// longer than its timeout); the same request may succeed when retried a little later.
        public static let unavailable = Code("unavailable")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed and what the user can do about it.
    public var message: String
    /// The error that caused this one, if any.
    public var underlying: (any Error)?
    /// The file that raised the error.
    public var file: String
    /// The line that raised the error.
    public var line: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The broad class of failure.
    ///   - message: What failed and the next step for the user.
    ///   - underlying: The cause, if another error led to this one.
    public init(
        _ code: Code,
        _ message: String,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// A one-line description: the message, followed by the underlying cause when there is one.
    public var description: String {
        if let underlying {
            return "\(message) (\(underlying))"
        }
        return message
    }
}

extension QuillError {
    /// Wraps a POSIX `errno` value in a readable message.
    package static func posix(
        _ what: String,
        path: String,
        errno code: Int32,
        file: String = #fileID,
        line: Int = #line
    ) -> QuillError {
        let reason = String(cString: strerror(code))
        return QuillError(.io, "\(what) '\(path)' failed: \(reason)", file: file, line: line)
    }
}
