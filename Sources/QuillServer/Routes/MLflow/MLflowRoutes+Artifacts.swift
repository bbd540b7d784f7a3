import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QuillAPI
import QuillCore
import QuillStore

extension MLflowRoutes {
    /// `artifacts/list` under the tracking prefix: one level of a run's artifacts, paths relative to the run's
    /// artifact root, with the root's URI.
    func registerArtifactListing(_ table: MLflowRouteTable) {
        table.add("artifacts/list", .get) { request, context in
            let query = MLflowFormQuery(request.uri.query)
            let runText = try required(query.first("run_id") ?? query.first("run_uuid"), "run_id")
            var folder = ""
            if let path = query.first("path") { folder = try MLflowArtifactPath(path).text }
            let run = try await readableRunRecord(runText, context)
            let entries = MLflowArtifactFolder.entries(try await artifacts.artifacts(run.id), in: folder)
            let files = entries.map { entry in
                MLflowFileInfo(
                    path: folder.isEmpty ? entry.name : folder + "/" + entry.name,
                    isDir: entry.isDir,
                    fileSize: entry.size.map { MLflowInt64($0) }
                )
            }
            let root = MLflowMapping.artifactURI(experimentID: experiments(context).id(run.project), run: run.id)
            return try JSONResponse.make(MLflowRunArtifactListing(rootURI: root, files: files))
        }
    }

    /// The proxied-artifact API under `/api/2.0/mlflow-artifacts`: `artifacts/<experiment_id>/<run_id>/artifacts/
    /// <path>` upload (PUT, the raw body, through ``ArtifactUploads``) and download (GET), and
    /// `artifacts?path=` listing. MLflow's client sends names percent-encoded; a run's files are Quill's
    /// artifacts of that run, so what Quill's own API logs shows here and the other way round.
    func registerProxiedArtifacts(_ table: MLflowRouteTable) {
        table.add("artifacts", .get) { request, context in
            try await listProxied(request, context)
        }
        table.add("artifacts/**", .put) { request, context in
            try await uploadProxied(request, context)
        }
        table.add("artifacts/**", .get) { request, context in
            try await downloadProxied(request, context)
        }
    }

    /// The path of the artifact or folder a proxied request names.
    private static func proxiedPath(_ request: Request) throws -> MLflowArtifactPath {
        try MLflowArtifactPath(rawPath: request.uri.path, after: "mlflow-artifacts/artifacts/")
    }

    /// Whether a path's experiment component names the run's experiment (its id, or `"0"` for the caller's
    /// `Default` project).
    private func check(_ path: MLflowArtifactPath, _ run: AuthorizedRun, _ context: QuillRequestContext) throws {
        let named = path.experimentID ?? ""
        guard named == String(run.project.id) || named == experiments(context).id(run.project) else {
            throw MLflowHTTPError(
                .resourceDoesNotExist,
                "Run '\(run.id)' is not in experiment '\(named)'; its artifacts are under mlflow-artifacts:/\(experiments(context).id(run.project))/\(run.id)/artifacts"
            )
        }
    }

    private func uploadProxied(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        // Access first, from the path alone; the body is read after.
        try api.authorization.requireWriter(context.caller)
        let path = try Self.proxiedPath(request)
        guard let runText = path.runText, let relative = path.artifactPath else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Quill stores the artifacts of runs only: upload to /api/2.0/mlflow-artifacts/artifacts/<experiment_id>/<run_id>/artifacts/<path>"
            )
        }
        guard !relative.isEmpty else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Artifact path must include a filename (cannot end with '/')."
            )
        }
        let run = try await writableRun(runText, context)
        try check(path, run, context)
        let checked = try ArtifactPathRules.validate(relative)
        _ = try await uploads.store(
            run.id,
            namespace: run.project.namespace,
            path: checked,
            length: request.headers[.contentLength].flatMap { Int64($0) },
            chunks: request.body.map(BodyChunk.init),
            logger: context.logger
        )
        // MLflow's server answers an upload with 200 and no body.
        return Response(status: .ok)
    }

    private func downloadProxied(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let path = try Self.proxiedPath(request)
        let missing = MLflowHTTPError(.resourceDoesNotExist, "No such artifact: '\(path.text)'")
        guard let runText = path.runText, let relative = path.artifactPath, !relative.isEmpty else { throw missing }
        let run = try await readableRunRecord(runText, context)
        try check(path, run, context)
        guard let checked = try? ArtifactPathRules.validate(relative) else { throw missing }
        guard let record = try await artifacts.artifact(run.id, path: checked), record.status == .uploaded,
            let hash = record.sha256, let blob = try await blobs.open(sha256: hash)
        else {
            if MLflowArtifactFolder.isFolder(try await artifacts.artifacts(run.id), checked) {
                throw MLflowHTTPError(
                    .invalidParameterValue,
                    "Artifact path refers to a directory, not a file: '\(path.text)'"
                )
            }
            throw missing
        }
        var headers: HTTPFields = [
            .contentType: MLflowMimeType.type(for: record.fileName),
            .contentDisposition: Self.mlflowAttachment(record.fileName),
            .acceptRanges: "bytes",
            .eTag: "\"\(hash)\"",
        ]
        if let noSniff = HTTPField.Name("X-Content-Type-Options") { headers[noSniff] = "nosniff" }
        let size = blob.size
        switch ByteRange.parse(request.headers[.range], size: size) {
        case .whole:
            guard size > 0 else { return Response(status: .ok, headers: headers, body: ResponseBody()) }
            return Response(status: .ok, headers: headers, body: ArtifactRoutes.body(blob, 0...(size - 1)))
        case .partial(let range):
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            return Response(status: .partialContent, headers: headers, body: ArtifactRoutes.body(blob, range))
        case .unsatisfiable:
            var response = try MLflowErrorMiddleware.response(
                .invalidParameterValue,
                "the range starts past the end of the \(size)-byte file; ask for bytes=0-"
            )
            response.status = .rangeNotSatisfiable
            response.headers[.contentRange] = "bytes */\(size)"
            return response
        }
    }

    private func listProxied(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let query = MLflowFormQuery(request.uri.query)
        let path = try MLflowArtifactPath(query.first("path") ?? "")
        // Above a run's artifacts Quill lists nothing but the run's `artifacts` folder.
        guard let runText = path.runText else { return try JSONResponse.make(MLflowArtifactListing(files: [])) }
        let run = try await readableRunRecord(runText, context)
        try check(path, run, context)
        let stored = try await artifacts.artifacts(run.id)
        guard let folder = path.artifactPath else {
            let hasFiles = path.components.count == 2 && stored.contains { $0.status == .uploaded }
            let files =
                hasFiles ? [MLflowFileInfo(path: MLflowArtifactPath.artifactsFolder, isDir: true, fileSize: nil)] : []
            return try JSONResponse.make(MLflowArtifactListing(files: files))
        }
        let normalized = folder.isEmpty ? "" : (try? ArtifactPathRules.validate(folder)) ?? folder
        let files = MLflowArtifactFolder.entries(stored, in: normalized).map { entry in
            MLflowFileInfo(path: entry.name, isDir: entry.isDir, fileSize: entry.size.map { MLflowInt64($0) })
        }
        return try JSONResponse.make(MLflowArtifactListing(files: files))
    }

    /// A `Content-Disposition` value as MLflow's server writes it: the name bare when it is an HTTP token,
    /// quoted otherwise, and for a non-ASCII name an ASCII fallback with the UTF-8 name in `filename*`.
    static func mlflowAttachment(_ name: String) -> String {
        let token = Set("!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~".unicodeScalars)
        func quoted(_ value: String) -> String {
            if !value.isEmpty, value.unicodeScalars.allSatisfy(token.contains) { return value }
            return "\""
                + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                + "\""
        }
        let printable = name.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7f }
        if printable { return "attachment; filename=\(quoted(name))" }
        let fallback = String(
            String.UnicodeScalarView(
                name.decomposedStringWithCompatibilityMapping.unicodeScalars.filter {
                    $0.isASCII && $0.value >= 0x20 && $0.value != 0x7f
                }
            )
        )
        let allowed = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~"
        )
        let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? fallback
        return "attachment; filename=\(quoted(fallback.isEmpty ? "download" : fallback)); filename*=UTF-8''\(encoded)"
    }
}
