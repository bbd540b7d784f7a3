import Foundation
import Hummingbird
import QuillAPI
import QuillCore
import QuillJobs
import QuillStore

/// Remote artifacts: files on a device (a worker's machine) that a run records, and copies into its artifacts
/// when it asks for a transfer.
///
/// - `POST /api/v1/runs/{id}/artifacts/remote` `{"device", "path", "name"?, "transfer"?}` (write access to the
///   run) records a request (201): `pending` until the device's worker sends the file as the artifact
///   `remote_<device>__<name>`, or `recorded` at once with `"transfer": false`. An unknown device is 404 naming
///   the known ones; an offline one's request waits for its worker.
/// - `GET /api/v1/runs/{id}/artifacts/remote` lists the run's requests with their status and reasons.
/// - Workers (an administrator's key): `POST /api/v1/devices/{name}/artifact-requests/claim` long-polls for the
///   device's requests (up to 5 s), and `POST /api/v1/devices/{name}/artifact-requests/{request}/finish` reports
///   one `done` (the bytes were uploaded with `PUT …/artifacts/content`; the server reads their size and hash
///   from the artifact's record) or `failed` with a reason. The worker decides what it shares (`--share`).
struct RemoteArtifactRoutes {
    let api: APIContext
    let queue: JobQueue
    let artifacts: any ArtifactStore

    /// The longest source path accepted, in characters (Unicode scalars, as JSON Schema counts; Linux's `PATH_MAX`).
    static let maximumSourcePath = 4096

    func register(runs: RouterGroup<QuillRequestContext>, devices: RouterGroup<QuillRequestContext>) {
        runs.post { request, context in try await create(request, context) }
        runs.get { _, context in
            let run = try await api.authorization.readRun(context)
            let requests = try await queue.jobs.remoteArtifacts(run.id)
            return try JSONResponse.make(APIRemoteArtifactList(requests: requests.map(DTO.remoteArtifact)))
        }
        devices.post(":name/artifact-requests/claim") { request, context in
            try api.authorization.runWorker(context.caller)
            let name = try context.parameters.require("name")
            let body = try await api.body(APIRemoteArtifactClaim.self, request)
            let lease = try JobRoutes.duration(body.leaseSeconds, JobRoutes.leaseRange, "body.lease_seconds")
            let wait = try JobRoutes.duration(body.waitSeconds ?? 0, JobRoutes.waitRange, "body.wait_seconds")
            let limit = body.limit ?? 10
            guard (1...100).contains(limit) else { throw QuillError(.invalidArgument, "body.limit must be 1 to 100") }
            let claimed = try await queue.claimRemoteArtifacts(device: name, lease: lease, limit: limit, wait: wait)
            return try JSONResponse.make(APIRemoteArtifactList(requests: claimed.map(DTO.remoteArtifact)))
        }
        devices.post(":name/artifact-requests/:request/finish") { request, context in
            try api.authorization.runWorker(context.caller)
            let name = try context.parameters.require("name")
            let text = try context.parameters.require("request")
            guard let id = Int64(text), id > 0 else {
                throw QuillError(.notFound, "remote artifact request '\(text)' not found; ids are positive integers")
            }
            let body = try await api.body(APIRemoteArtifactFinish.self, request)
            let result: RemoteArtifactResult
            switch body.status {
            case "done":
                guard let asked = try await queue.jobs.remoteArtifact(id) else {
                    throw QuillError(.notFound, "remote artifact request \(id) not found")
                }
                let record = try await artifacts.artifact(asked.spec.run, path: asked.spec.artifactPath)
                guard let record, record.status == .uploaded, let size = record.size, let sha256 = record.sha256 else {
                    throw QuillError(
                        .conflict,
                        "artifact '\(asked.spec.artifactPath)' of run '\(asked.spec.run)' has no stored bytes; upload them with PUT \(APIPath.runArtifactContent(asked.spec.run.rawValue, path: asked.spec.artifactPath)) first"
                    )
                }
                result = .done(size: size, sha256: sha256)
            case "failed":
                let reason = body.reason.map { String($0.prefix(2000)) }
                try RequestRules.refuseNUL(reason ?? "", "body.reason")
                result = .failed(reason: reason.flatMap { $0.isEmpty ? nil : $0 } ?? "the worker gave no reason")
            default:
                throw QuillError(.invalidArgument, "body.status must be \"done\" or \"failed\", not '\(body.status)'")
            }
            let finished = try await queue.finishRemoteArtifact(id, device: name, result)
            return try JSONResponse.make(DTO.remoteArtifact(finished))
        }
    }

    /// The artifact path of a remote file: `remote_<device>__<name>`, the name given, or else the file's name with
    /// what an artifact path may not hold (control characters, backslashes) as `_`, shortened from the front to
    /// fit ``ArtifactPathRules/maximumLength``.
    static func artifactPath(device: String, path: String, name: String?) throws -> String {
        func safe(_ text: String) -> String {
            var scalars = String.UnicodeScalarView()
            for scalar in text.unicodeScalars {
                let refused = scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar == "\\"
                scalars.append(refused ? "_" : scalar)
            }
            return String(scalars)
        }
        let prefix = NewRemoteArtifact.artifactPath(device: safe(device), name: "")
        if let name, !name.isEmpty { return prefix + name }
        let file = path.split(separator: "/").last.map(String.init) ?? ""
        guard !file.isEmpty else {
            throw QuillError(.invalidArgument, "body.path names no file; give a file's path, or a name")
        }
        let room = max(1, ArtifactPathRules.maximumLength - prefix.unicodeScalars.count)
        return prefix + String(String.UnicodeScalarView(safe(file).unicodeScalars.suffix(room)))
    }

    private func create(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let run = try await api.authorization.writeRun(context)
        let body = try await api.body(APIRemoteArtifactCreate.self, request)
        try RequestRules.checkKey(body.device, "body.device")
        try RequestRules.refuseNUL(body.path, "body.path")
        guard body.path.hasPrefix("/") else {
            throw QuillError(
                .invalidArgument,
                "body.path must be the file's absolute path on the device, not '\(body.path)'"
            )
        }
        guard body.path.unicodeScalars.count <= Self.maximumSourcePath else {
            throw QuillError(.invalidArgument, "body.path must be at most \(Self.maximumSourcePath) characters")
        }
        let devices = try await queue.jobs.devices(now: Date())
        guard devices.contains(where: { $0.spec.name == body.device }) else {
            let known = devices.map(\.spec.name)
            throw QuillError(
                .notFound,
                "device '\(body.device)' not found; "
                    + (known.isEmpty
                        ? "no device is registered (start `quill worker` on it)"
                        : "known devices: \(known.joined(separator: ", "))")
            )
        }
        let path = try ArtifactPathRules.validate(
            Self.artifactPath(device: body.device, path: body.path, name: body.name)
        )
        let new = NewRemoteArtifact(
            run: run.id,
            device: body.device,
            sourcePath: body.path,
            artifactPath: path,
            transfer: body.transfer ?? true,
            requestedBy: context.caller.userName
        )
        let stored = try await queue.requestRemoteArtifact(new)
        return try JSONResponse.make(DTO.remoteArtifact(stored), status: .created)
    }
}
