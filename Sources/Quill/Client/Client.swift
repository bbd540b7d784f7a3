public import Foundation
package import QuillClient
import QuillCore

extension Quill {
    /// A connection to a `quill serve`: queue jobs and wait for them, read their runs, metrics and
    /// artifacts, and see the queue at a glance.
    ///
    /// The Swift counterpart of whirr's `WhirrClient`. Every call is one or a few HTTP requests; the answers
    /// are the REST API's own types (``QuillAPI/APIJob``, ``QuillAPI/APIRunDetails``, …), so a field the
    /// server sends is never renamed on the way.
    ///
    /// ```swift
    /// let client = try Quill.Client(server: "http://head-node:8080")
    /// let job = try await client.submitAndWait(["python", "train.py", "--lr", "0.01"], timeout: .seconds(3600))
    /// let run = try await client.run(job.runID)
    /// print(job.status, run.run.summary["val_loss"] ?? .null)
    /// ```
    ///
    /// A client is a value: copy it and share it between tasks freely. See <doc:JobsClient>.
    ///
    /// ## Topics
    ///
    /// ### Jobs
    /// - ``submit(_:)``
    /// - ``submit(_:name:project:workdir:config:tags:environment:)``
    /// - ``job(_:)``
    /// - ``wait(for:pollInterval:timeout:)``
    /// - ``wait(for:pollInterval:timeout:onChange:)``
    /// - ``submitAndWait(_:name:project:workdir:config:tags:environment:pollInterval:timeout:)``
    /// - ``cancel(_:)``
    /// - ``status()``
    /// - ``JobWaitTimeout``
    ///
    /// ### Runs
    /// - ``run(_:)``
    /// - ``runs(status:tag:project:limit:)``
    /// - ``metrics(of:)``
    /// - ``metricHistory(of:key:maxPoints:)``
    /// - ``artifacts(of:)``
    /// - ``artifact(of:path:)``
    /// - ``downloadArtifact(of:path:to:)``
    public struct Client: Sendable {
        /// The HTTP client every call goes through (the one the CLI and the SDK's uploader use).
        package let http: BlockingHTTPClient

        /// The server's base URL, without a trailing slash.
        public var serverURL: String { http.baseURL }

        /// A client for a server.
        ///
        /// The API key is found as the CLI finds it: `apiKey` when given, else `QUILL_API_KEY`, else the key
        /// `quill login` saved for that server (``QuillClient/Credentials``). No request is sent yet.
        ///
        /// - Parameters:
        ///   - server: The server's URL, e.g. `http://127.0.0.1:8080`; `QUILL_TRACKING_URI` when `nil`.
        ///   - apiKey: The API key to send; found as described above when `nil`.
        ///   - requestTimeout: How long one request may wait for the server's next bytes.
        ///   - environment: Where `QUILL_TRACKING_URI`, `QUILL_API_KEY` and `QUILL_CREDENTIALS` are read.
        /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` when no server is named, the
        ///   URL has no `http://` or `https://` scheme, or `requestTimeout` is not positive.
        public init(
            server: String? = nil,
            apiKey: String? = nil,
            requestTimeout: Duration = .seconds(30),
            environment: [String: String] = ProcessInfo.processInfo.environment
        ) throws {
            guard let url = server ?? environment["QUILL_TRACKING_URI"].flatMap({ $0.isEmpty ? nil : $0 }) else {
                throw QuillError(
                    .invalidArgument,
                    "no server: pass Quill.Client(server: \"http://HOST:PORT\") or set QUILL_TRACKING_URI"
                )
            }
            try BlockingHTTPClient.checkServerURL(url)
            guard requestTimeout > .zero else {
                throw QuillError(.invalidArgument, "requestTimeout must be positive, e.g. .seconds(30)")
            }
            let base = Credentials.normalize(url)
            let seconds =
                Double(requestTimeout.components.seconds) + Double(requestTimeout.components.attoseconds) / 1e18
            self.http = BlockingHTTPClient(
                baseURL: base,
                apiKey: apiKey ?? Credentials.apiKey(server: base, environment: environment),
                timeout: seconds
            )
        }

        /// A client over an HTTP client already made (the CLI's, with its server and key).
        package init(http: BlockingHTTPClient) {
            self.http = http
        }
    }
}
