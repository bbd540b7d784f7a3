import Foundation
import HTTPTypes
import Hummingbird
import QuillCore

/// Who calls MLflow's API: the same callers, keys and rules as Quill's own API.
///
/// MLflow's client sends `MLFLOW_TRACKING_TOKEN` as `Authorization: Bearer <token>` and
/// `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD` as HTTP Basic credentials; either way the token or the
/// password is a Quill API key. Without credentials the caller is anonymous (single-user mode: everyone), and
/// each route then asks ``Authorization`` exactly as the matching Quill route does.
struct MLflowAuthMiddleware: RouterMiddleware {
    let authenticator: Authenticator

    func handle(
        _ request: Request,
        context: QuillRequestContext,
        next: (Request, QuillRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.caller = try await authenticator.caller(
            authorization: HTTPCredentials.bearer(request.headers[.authorization])
        )
        return try await next(request, context)
    }
}
