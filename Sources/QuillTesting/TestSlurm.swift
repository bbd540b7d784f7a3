import Foundation
package import QuillSlurm
public import Testing

/// The SLURM cluster the tests use: the one `scripts/test.sh` starts (`scripts/slurm.sh`), named by
/// `QUILL_TEST_SLURM_CONF`, the path of its `slurm.conf` (the shared dev cluster's is
/// `/tmp/quill-slurm-dev/slurm.conf`).
///
/// A suite that needs it is enabled only when it is there, and says why when it is not:
///
/// ```swift
/// @Suite(.enabled(if: TestSlurm.isAvailable, TestSlurm.skipComment))
/// struct SlurmSubmitTests {
///     @Test func runs() async throws {
///         let slurm = try TestSlurm.client()
///         …
///     }
/// }
/// ```
public enum TestSlurm: Sendable {
    /// The environment variable naming the cluster's `slurm.conf`.
    public static let variable = "QUILL_TEST_SLURM_CONF"

    /// The cluster's `slurm.conf`, when the variable names a file that exists.
    public static var configuration: String? {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty,
            FileManager.default.fileExists(atPath: path)
        else { return nil }
        return path
    }

    /// Why SLURM tests are skipped, or `nil` when a cluster is configured.
    public static var skipReason: String? {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else {
            return
                "\(variable) is not set: no SLURM cluster; scripts/test.sh starts one (scripts/slurm.sh start DIR), or export \(variable)=/tmp/quill-slurm-dev/slurm.conf"
        }
        guard FileManager.default.fileExists(atPath: path) else {
            return "\(variable)=\(path) names no file: start a cluster with scripts/slurm.sh start DIR"
        }
        return nil
    }

    /// Whether a cluster is configured.
    public static var isAvailable: Bool { skipReason == nil }

    /// ``skipReason`` as a comment for `.enabled(if:_:)`.
    public static var skipComment: Comment { Comment(rawValue: skipReason ?? "a SLURM cluster is configured") }

    /// The environment that points SLURM's tools at the test cluster (`SLURM_CONF`), for child processes.
    public static var environment: [String: String] {
        configuration.map { ["SLURM_CONF": $0] } ?? [:]
    }

    /// A client of the test cluster; commands get up to `timeout` each (a loaded machine answers slowly).
    ///
    /// - Throws: An error with ``skipReason`` when no cluster is configured.
    package static func client(timeout: Duration = .seconds(60)) throws -> SlurmClient {
        guard let configuration else { throw TestSlurmUnavailable(reason: skipReason ?? "no SLURM cluster") }
        return SlurmClient(configuration: .init(slurmConf: configuration, commandTimeout: timeout))
    }

    /// A directory for batch scripts and output files that every node of the cluster sees (one node here: a
    /// fresh temporary directory).
    public static func sharedDirectory(_ label: String) throws -> String {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent(
            "quill-slurm-\(label)-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// No SLURM cluster is configured for the tests.
public struct TestSlurmUnavailable: Error, CustomStringConvertible {
    /// Why.
    public var reason: String
    /// The reason.
    public var description: String { reason }
}
