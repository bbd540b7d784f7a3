import Foundation
import QuillBlobs
import QuillCore
import QuillImport
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

/// A fresh Quill store to import into: a real SQLite file and a real blob folder.
struct FreshStore {
    let temp = TemporaryDirectory("quill-import")
    let store: any StoreBackend
    let blobs: any BlobStore

    init() throws {
        store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        blobs = FileBlobStore(root: temp.file("artifacts"))
    }

    var destination: ImportDestination {
        ImportDestination(runs: store, artifacts: store, blobs: blobs, namespace: "local")
    }

    /// Imports everything `source` reads.
    func importing(_ source: any ImportSource) async throws -> ImportReport {
        try await Importer(source: source, destination: destination).run()
    }

    /// The bytes of a stored artifact, as lowercase hex.
    func hex(_ artifact: StoredArtifact) async throws -> String {
        let sha = try #require(artifact.sha256)
        let reader = try #require(try await blobs.open(sha256: sha))
        guard reader.size > 0 else { return "" }
        var bytes: [UInt8] = []
        try await reader.read(0...(reader.size - 1)) { bytes += $0 }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// What the store counts.
    func counts() async throws -> StoreCounts { try await store.counts() }
}

/// The real Python tools the fixtures are made with.
enum Fixtures {
    /// The interpreter a variable names; a missing one fails the test with a one-line reason.
    static func python(_ variable: String, _ what: String) throws -> String {
        guard let python = ProcessInfo.processInfo.environment[variable],
            FileManager.default.isExecutableFile(atPath: python)
        else {
            Issue.record("set \(variable) to a Python with \(what) (scripts/test.sh does); this test needs it")
            throw CancellationError()
        }
        return python
    }

    /// The full `mlflow` (file store, SQLAlchemy store, server).
    static func mlflowPython() throws -> String {
        try python("QUILL_TEST_MLFLOW_FULL_PYTHON", "the full mlflow package (pip install mlflow)")
    }

    /// A script of `Scripts/`.
    static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/" + name).path
    }

    /// Runs a fixture script to the end (off the cooperative pool) and reads the JSON dump it wrote.
    static func run(_ python: String, _ script: String, _ arguments: [String], dump: String) async throws -> JSONValue {
        let result = try await BuiltProducts.run(
            python,
            [Self.script(script)] + arguments,
            environment: ["MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_ALLOW_FILE_STORE": "true"]
        )
        try #require(result.status == 0, "\(script) failed: \(result.stderr.suffix(2000))")
        let data = try #require(FileManager.default.contents(atPath: dump))
        return try JSONParser.parse(Array(data))
    }
}

/// Milliseconds since 1970, as MLflow counts.
func milliseconds(_ date: Date?) -> Int64? {
    date.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
}

/// Both NaN, or equal.
func same(_ a: Double, _ b: Double) -> Bool {
    (a.isNaN && b.isNaN) || a == b
}
