import ArgumentParser
import Foundation
import QuillBlobs
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillStoreSQLite

/// `--store`: which tracking store a server-side command opens.
struct StoreOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The tracking store: sqlite:///abs/path.db, sqlite:PATH, a plain path (default: <data>/quill.db) or postgres://USER@HOST:PORT/DATABASE.",
            valueName: "url"
        )
    )
    var store: String?
}

/// Opens the stores of `quill serve`, `quill users` and `quill artifacts gc` from a ``StoreURL``: the one place
/// that knows which backend a URL scheme means (MLflow's store registry does the same).
///
/// The records (runs, accounts, artifact records) come from the backend the URL names; artifact bytes live in
/// `<data>/artifacts` (``FileBlobStore``). The caller runs ``OpenedStores/services`` in its `ServiceGroup`, or
/// does its work inside ``OpenedStores/whileRunning(_:)``.
enum StoreFactory {
    /// How a command uses the blob folder.
    enum BlobAccess {
        /// The server that owns the folder: opening it clears what an earlier server left in `tmp/`.
        case owner
        /// A command that may run beside the server (`quill artifacts gc`): `tmp/` is left alone.
        case sharing
    }

    /// What a command needs of the backend's data.
    enum Existence {
        /// Create the store when it does not exist (`quill serve`, `quill users create`).
        case createIfMissing
        /// Refuse with a one-line error when it does not exist, instead of creating an empty one.
        case mustExist
    }

    /// The store `--store` names, or the default SQLite file in the data folder; a relative SQLite path is
    /// made absolute, so messages and `server.json` name one file.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` (exit status 2) for an unknown
    ///   scheme or a malformed PostgreSQL URL.
    static func url(_ option: String?, data folder: String) throws -> StoreURL {
        guard let option else { return .sqlite(path: folder + "/quill.db") }
        switch try StoreURL(parsing: option) {
        case .sqlite(let path):
            if path.hasPrefix("/") { return .sqlite(path: path) }
            let base = FileManager.default.currentDirectoryPath
            return .sqlite(path: URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: base + "/")).path)
        case .postgres(let location):
            return .postgres(location)
        }
    }

    /// Opens the backend `url` names and the blob folder of `folder` (or `artifacts`).
    ///
    /// - Parameters:
    ///   - url: The store, from ``url(_:data:)``.
    ///   - folder: The data folder (artifact bytes in `artifacts/`).
    ///   - artifacts: The folder of artifact bytes when not the data folder's (`--artifacts`): replicas on one
    ///     PostgreSQL database may share it.
    ///   - blobs: Whether the command owns the blob folder or shares it with a running server.
    ///   - existence: Whether a missing store is created or refused.
    ///   - durability: When a SQLite write is answered (`quill serve --durability`).
    /// - Throws: ``QuillError`` with code ``QuillError/Code/notFound`` for a store that must exist and does not,
    ///   or the backend's error when it cannot be opened.
    static func open(
        _ url: StoreURL,
        data folder: String,
        artifacts: String? = nil,
        blobs: BlobAccess,
        existence: Existence = .createIfMissing,
        durability: SQLiteDurability = .full
    ) throws -> OpenedStores {
        let backend: any StoreBackend
        switch url {
        case .sqlite(let path):
            if existence == .mustExist, !FileManager.default.fileExists(atPath: path) {
                throw path == folder + "/quill.db"
                    ? QuillError(.notFound, "no server data in \(folder); pass the folder `quill serve --data` uses")
                    : QuillError(.notFound, "no SQLite store at \(path); pass the --store `quill serve` uses")
            }
            // The store makes its file's folder private (0700), right for the data folder; a folder --store
            // names elsewhere (/tmp, a shared volume) keeps the mode it had.
            let parent = (path as NSString).deletingLastPathComponent
            let mode = path == folder + "/quill.db" ? nil : Self.mode(of: parent)
            backend = try SQLiteTrackingStore(path: path, durability: durability)
            if let mode, Self.mode(of: parent) != mode { chmod(parent, mode) }
        case .postgres(let location):
            // Nothing connects until the backend's service runs; a database that does not exist is reported then.
            backend = try PostgresStore(location: location)
        }
        // The server's data folder (artifacts, server.json) is private; a store elsewhere does not make it.
        if blobs == .owner, !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700]
                )
            } catch {
                throw QuillError(
                    .io,
                    "could not create the data folder '\(folder)'; check --data and its permissions",
                    underlying: error
                )
            }
        }
        let root = artifacts ?? folder + "/artifacts"
        let files = blobs == .owner ? FileBlobStore(root: root) : FileBlobStore(sharing: root)
        return OpenedStores(url: url, backend: backend, blobs: files)
    }

    /// The permission bits of an existing file or folder.
    private static func mode(of path: String) -> mode_t? {
        var info = stat()
        guard !path.isEmpty, stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }
}
