import Foundation
import QuillAPI
import QuillCore

extension RunUploader {
    /// Uploads the files of `artifact` events: each file of a logged folder, its record first (with size
    /// and SHA-256), then its bytes streamed from disk, unless the server already has them.
    ///
    /// A file whose size and modification time match what `sync.json` saved for it is skipped without
    /// being read, so a re-sync sends nothing; when `sync.json` is lost, the server's record (same hash,
    /// uploaded) still saves the upload. A file the server refuses (4xx: too large, over quota, a path it
    /// does not take) is reported and not retried; other failures throw, to be retried on the next pass.
    func uploadArtifacts(_ events: [RunEvent], run: RunID, state: inout SyncState, report: inout Report) throws {
        var seen = Set<String>()
        for event in events {
            guard let logged = event.fields["path"]?.stringValue else { continue }
            for path in files(logged) where seen.insert(path).inserted {
                try uploadArtifact(path, loggedAt: event.timestamp, run: run, state: &state, report: &report)
            }
        }
    }

    /// Uploads every file under `artifacts/` not uploaded yet, or changed since (its size or modification
    /// time differs from what `sync.json` saved), dated by its modification time.
    func uploadUnloggedArtifacts(run: RunID, state: inout SyncState, report: inout Report) throws {
        for (path, _) in directory.listArtifacts() {
            var info = stat()
            guard stat(directory.artifactsPath + "/" + path, &info) == 0 else { continue }
            let modified = Platform.modificationTime(of: info)
            let date = Date(timeIntervalSince1970: Double(modified.tv_sec) + Double(modified.tv_nsec) / 1e9)
            try uploadArtifact(path, loggedAt: date, run: run, state: &state, report: &report)
        }
    }

    /// The files (paths relative to `artifacts/`) of a logged file or folder, sorted.
    private func files(_ logged: String) -> [String] {
        let root = directory.artifactsPath
        var info = stat()
        guard stat(root + "/" + logged, &info) == 0 else { return [] }
        if (info.st_mode & S_IFMT) == S_IFREG { return [logged] }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return [] }
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root + "/" + logged)
        while let relative = enumerator?.nextObject() as? String {
            var child = stat()
            if stat(root + "/" + logged + "/" + relative, &child) == 0, (child.st_mode & S_IFMT) == S_IFREG {
                found.append(logged + "/" + relative)
            }
        }
        return found.sorted()
    }

    private func uploadArtifact(
        _ path: String,
        loggedAt: Date,
        run: RunID,
        state: inout SyncState,
        report: inout Report
    ) throws {
        let file = directory.artifactsPath + "/" + path
        var info = stat()
        guard stat(file, &info) == 0 else { return }
        let modified = Platform.modificationTime(of: info)
        let marker = "\(info.st_size):\(Int64(modified.tv_sec) * 1_000_000_000 + Int64(modified.tv_nsec))"
        if state.artifacts[path]?["marker"]?.stringValue == marker { return }
        let (sha256, size) = try SHA256.hex(ofFileAt: file)
        let base = APIPath.runArtifacts(run.rawValue)
        let created = try client.send(
            "POST",
            base,
            json: try APIEncoder().encode(APIArtifactCreate(path: path, size: size, sha256: sha256, loggedAt: loggedAt))
        )
        if (400..<500).contains(created.status) {
            refuse(path, marker, created, &state, &report)
            try state.save(directory)
            return
        }
        guard created.status == 200 || created.status == 201 else { throw failure(created, "POST \(base)") }
        let record = created.body.flatMap { try? APIDecoder().decode(APIArtifact.self, from: $0) }
        if record?.status != "uploaded" || record?.sha256 != sha256 {
            let target = APIPath.runArtifactContent(run.rawValue, path: path)
            let uploaded = try client.upload("PUT", target, fromFile: file)
            if (400..<500).contains(uploaded.status), uploaded.status != 404 {
                refuse(path, marker, uploaded, &state, &report)
                try state.save(directory)
                return
            }
            guard uploaded.status == 200 else { throw failure(uploaded, "PUT \(base)/content") }
            report.artifactsUploaded += 1
            report.artifactBytesSent += size
        }
        state.artifacts[path] = ["marker": .string(marker), "sha256": .string(sha256)]
        try state.save(directory)
    }

    private func refuse(
        _ path: String,
        _ marker: String,
        _ response: BlockingHTTPClient.Response,
        _ state: inout SyncState,
        _ report: inout Report
    ) {
        let message = Self.errorMessage(response)
        report.artifactsRefused.append("\(path): \(message)")
        state.artifacts[path] = ["marker": .string(marker), "refused": .string(message)]
    }
}
