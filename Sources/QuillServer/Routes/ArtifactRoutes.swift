import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import QuillAPI
import QuillCore
import QuillStore

/// `/api/v1/runs/{id}/artifacts`: the records and bytes of a run's artifacts.
///
/// - `POST` `{"path", "size"?, "sha256"?}` creates the record of a path (201), or returns the existing one
///   (200); the size and hash announced are what the next upload must be (they hold for every attempt until
///   an upload matches them). A failed record goes back to pending; an uploaded one keeps serving its
///   stored version until a newer one is complete and verified.
/// - `GET` lists the run's artifacts; `PATCH ?path=` `{"status": "failed"}` gives up a record that has no
///   stored version (409 for one that has: its bytes stay, and count, until the run is deleted).
/// - `PUT content?path=` streams the raw body into the content-addressed blob store (never collected in
///   memory; the record is created when missing), checking the per-file limit (413) and the namespace quota
///   (507) as bytes arrive, and the announced size and hash at the end (400). A failed upload leaves the
///   stored version, if any, in place; a successful one replaces it and removes the old bytes when no
///   record holds them.
/// - The quota counts the bytes a namespace holds: stored versions and released bytes not yet removed
///   from disk, whatever the records' status.
/// - `GET content?path=` streams the bytes back, with single `Range` requests (206, or 416); a request for
///   several ranges gets the whole file (200), as RFC 9110 allows.
///
/// Every handler gets its run through ``Authorization/readRun(_:)`` or ``Authorization/writeRun(_:)``, which
/// check the caller's access before the body is read.
struct ArtifactRoutes {
    let api: APIContext
    let artifacts: any ArtifactStore
    let blobs: any BlobStore
    /// The upload of bytes (limits, quota, blobs), shared with the server's embedded workers.
    let uploads: ArtifactUploads
    /// The runs' remote artifact requests, listed with the artifacts, when the store keeps them.
    let remote: (any RemoteArtifactStore)?

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.post { request, context in try await create(request, context) }
        group.get { _, context in
            let run = try await api.authorization.readRun(context)
            let list = try await artifacts.artifacts(run.id)
            let requests = try await remote?.remoteArtifacts(run.id) ?? []
            return try JSONResponse.make(APIArtifactList(artifacts: DTO.artifacts(list, remote: requests)))
        }
        group.patch { request, context in
            let run = try await api.authorization.writeRun(context)
            let path = try Self.path(request)
            let body = try await api.body(APIArtifactUpdate.self, request)
            guard body.status == ArtifactStatus.failed.rawValue else {
                throw QuillError(
                    .invalidArgument,
                    "body.status must be \"failed\"; upload the bytes to mark it uploaded"
                )
            }
            guard let record = try await artifacts.artifact(run.id, path: path) else {
                throw Self.noRecord(run.id, path)
            }
            guard record.sha256 == nil else {
                throw QuillError(
                    .conflict,
                    "artifact '\(path)' is uploaded and its bytes stay (and count against the quota) until run '\(run.id)' is deleted; to replace it, upload a new version"
                )
            }
            return try JSONResponse.make(DTO.artifact(try await artifacts.markArtifactFailed(run.id, path: path)))
        }
        group.put("content") { request, context in try await upload(request, context) }
        group.get("content") { request, context in try await download(request, context) }
    }

    private func create(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let run = try await api.authorization.writeRun(context)
        let body = try await api.body(APIArtifactCreate.self, request)
        let path = try ArtifactPathRules.validate(body.path)
        var new = NewArtifact(run: run.id, path: path, loggedAt: body.loggedAt)
        if let size = body.size {
            guard size >= 0 else { throw QuillError(.invalidArgument, "body.size must not be negative") }
            try Self.checkLimit(size, api.configuration)
            new.expectedSize = size
        }
        if let hash = body.sha256?.lowercased() {
            guard SHA256.isHexDigest(hash) else {
                throw QuillError(.invalidArgument, "body.sha256 must be 64 hexadecimal digits")
            }
            new.expectedSHA256 = hash
        }
        let result = try await artifacts.createArtifact(new)
        return try JSONResponse.make(DTO.artifact(result.artifact), status: result.created ? .created : .ok)
    }

    private func upload(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let run = try await api.authorization.writeRun(context)
        let path = try Self.path(request)
        let uploaded = try await uploads.store(
            run.id,
            namespace: run.project.namespace,
            path: path,
            length: request.headers[.contentLength].flatMap { Int64($0) },
            chunks: request.body.map(BodyChunk.init),
            logger: context.logger
        )
        return try JSONResponse.make(DTO.artifact(uploaded))
    }

    private func download(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let run = try await api.authorization.readRun(context)
        let path = try Self.path(request)
        guard let record = try await artifacts.artifact(run.id, path: path) else { throw Self.noRecord(run.id, path) }
        guard record.status == .uploaded, let hash = record.sha256, let blob = try await blobs.open(sha256: hash) else {
            throw QuillError(
                .notFound,
                "artifact '\(path)' of run '\(run.id)' has no stored bytes (status \(record.status.rawValue)); upload them with PUT /api/v1/runs/\(run.id)/artifacts/content?path=…"
            )
        }
        var headers: HTTPFields = [
            .contentType: "application/octet-stream", .acceptRanges: "bytes", .eTag: "\"\(hash)\"",
            .contentDisposition: Self.attachment(record.fileName),
        ]
        let size = blob.size
        switch ByteRange.parse(request.headers[.range], size: size) {
        case .whole:
            guard size > 0 else { return Response(status: .ok, headers: headers, body: ResponseBody()) }
            return Response(status: .ok, headers: headers, body: Self.body(blob, 0...(size - 1)))
        case .partial(let range):
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            return Response(status: .partialContent, headers: headers, body: Self.body(blob, range))
        case .unsatisfiable:
            var response = try JSONResponse.make(
                APIErrorBody(
                    code: "range_not_satisfiable",
                    message: "the range starts past the end of the \(size)-byte file; ask for bytes=0-"
                ),
                status: .rangeNotSatisfiable
            )
            response.headers[.contentRange] = "bytes */\(size)"
            return response
        }
    }

    /// A response body streaming a range of a blob, chunk by chunk.
    static func body(_ blob: any BlobReader, _ range: ClosedRange<Int64>) -> ResponseBody {
        ResponseBody(contentLength: Int(range.upperBound - range.lowerBound + 1)) { writer in
            try await blob.read(range) { chunk in try await writer.write(ByteBuffer(bytes: chunk)) }
            try await writer.finish(nil)
        }
    }

    /// The `path` query parameter, checked.
    static func path(_ request: Request) throws -> String {
        guard let text = request.uri.queryParameters["path"] else {
            throw QuillError(.invalidArgument, "the query parameter path is required, e.g. ?path=checkpoints/best.ckpt")
        }
        return try ArtifactPathRules.validate(String(text))
    }

    static func noRecord(_ run: RunID, _ path: String) -> QuillError {
        QuillError(
            .notFound,
            "run '\(run)' has no artifact '\(path)'; list them with GET /api/v1/runs/\(run)/artifacts"
        )
    }

    static func checkLimit(_ size: Int64, _ configuration: ServerConfiguration) throws {
        guard size <= configuration.maxArtifactBytes else {
            throw QuillError(
                .artifactTooLarge,
                "the file has \(size) bytes; this server takes at most \(configuration.maxArtifactBytes) bytes per artifact (quill serve --max-artifact-mib)"
            )
        }
    }

    static func quotaExceeded(_ size: Int64, _ remaining: Int64) -> QuillError {
        QuillError(
            .quotaExceeded,
            "the file has \(size) bytes but the namespace's artifact quota has \(max(0, remaining)) bytes left; delete runs or ask the operator to raise --quota-mib"
        )
    }

    /// A `Content-Disposition` value naming the file, ASCII-safe (RFC 6266 `filename*`).
    static func attachment(_ name: String) -> String {
        let ascii = String(
            name.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0.value >= 0x20 ? Character($0) : "_" }
        )
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ascii
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }
}
