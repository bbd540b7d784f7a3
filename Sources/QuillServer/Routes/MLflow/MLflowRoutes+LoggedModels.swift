import Foundation
import Hummingbird
import QuillAPI
import QuillCore

extension MLflowRoutes {
    /// The logged-model endpoints MLflow's client calls during ordinary logging and reading: Quill keeps no
    /// logged models, so `logged-models/search` finds none (`{}`: MLflow's client asks it when listing a path
    /// that turns out to be a file) and `runs/outputs` is accepted for a run the caller may write (`{}`).
    func registerLoggedModels(_ table: MLflowRouteTable) {
        table.add("logged-models/search", .post) { request, context in
            let body = try await body(MLflowSearchLoggedModels.self, request)
            guard body.experimentIDs != nil else { throw MLflowHTTPError.missing("experiment_ids") }
            return try JSONResponse.make(MLflowEmpty())
        }
        table.add("runs/outputs", .post) { request, context in
            // The run is named in the body: refuse an anonymous writer before reading it.
            try api.authorization.requireWriter(context.caller)
            let body = try await body(MLflowLogOutputs.self, request)
            let runText = try required(body.runID, "run_id")
            guard body.models != nil else { throw MLflowHTTPError.missing("models") }
            _ = try await writableRun(runText, context)
            return try JSONResponse.make(MLflowEmpty())
        }
    }

    /// A run the caller may write, with its project, by its id's text: an unknown or unreadable run is
    /// `RESOURCE_DOES_NOT_EXIST`, a run the caller may only read `PERMISSION_DENIED`, an anonymous caller on a
    /// server with users `UNAUTHENTICATED`.
    func writableRun(_ text: String, _ context: QuillRequestContext) async throws -> AuthorizedRun {
        try api.authorization.requireWriter(context.caller)
        guard let id = RunID(text) else { throw Self.runNotFound(text) }
        do {
            return try await api.authorization.writeRun(id: id, context.caller)
        } catch let error as QuillError where error.code == .notFound {
            throw Self.runNotFound(text)
        }
    }

    /// A run the caller may read, with its project, by its id's text; any other is `RESOURCE_DOES_NOT_EXIST`.
    func readableRunRecord(_ text: String, _ context: QuillRequestContext) async throws -> AuthorizedRun {
        guard let id = RunID(text) else { throw Self.runNotFound(text) }
        do {
            return try await api.authorization.readRun(id: id, context.caller)
        } catch let error as QuillError where error.code == .notFound {
            throw Self.runNotFound(text)
        }
    }
}
