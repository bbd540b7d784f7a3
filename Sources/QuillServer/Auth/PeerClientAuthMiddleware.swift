import Foundation
import HTTPTypes
import Hummingbird
import QuillCore

/// Who calls a peer tool's API on this server (MLflow's, whirr's): the same callers and keys as Quill's own API,
/// from the credentials those tools' clients can send.
///
/// MLflow's client sends `MLFLOW_TRACKING_TOKEN` as `Authorization: Bearer <token>` and
/// `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD` as HTTP Basic credentials; whirr's client (httpx) sends a
/// URL's user info as Basic credentials. Either way the token or the password is a Quill API key
/// (``HTTPCredentials/bearer(_:)``). Without credentials the caller is anonymous (single-user mode: everyone);
/// the dashboard's session cookie is not read, since these APIs are for scripts. Each route then asks
/// ``Authorization`` exactly as the matching Quill route does.
struct PeerClientAuthMiddleware: RouterMiddleware {
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
