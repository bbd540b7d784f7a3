import Foundation
import Hummingbird
import QuillAPI
import QuillCore
import QuillStore

/// Reading MLflow's requests: POST endpoints take a JSON body, GET endpoints the query string (a member given
/// more than once is a list, as MLflow's server reads repeated fields). A body that is not a JSON object, or
/// a member of the wrong type, is `INVALID_PARAMETER_VALUE`; a missing required member is answered in
/// MLflow's words by the route (``MLflowRoutes/required(_:_:)``).
extension MLflowRoutes {
    /// The JSON body decoded as `type` (an empty body is `{}`).
    func body<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let buffer = try await api.bodyBytes(request)
        let value: JSONValue = buffer.readableBytes == 0 ? .object([:]) : try APIContext.json(from: buffer)
        guard case .object = value else {
            throw MLflowHTTPError(.invalidParameterValue, "the request body must be a JSON object")
        }
        return try APIDecoder().decode(T.self, from: value)
    }

    /// The query string decoded as `type`, read as MLflow's server reads it (``MLflowFormQuery``: `+` is a
    /// space); the members in `lists` are lists, the others keep their first value.
    func query<T: Decodable>(_ type: T.Type, _ request: Request, lists: Set<String> = []) throws -> T {
        let form = MLflowFormQuery(request.uri.query)
        var object: [String: JSONValue] = [:]
        for name in form.names {
            let values = form.all(name)
            if lists.contains(name) {
                object[name] = .array(values.map(JSONValue.string))
            } else if let first = values.first {
                object[name] = .string(first)
            }
        }
        return try APIDecoder().decode(T.self, from: .object(object))
    }

    /// A required member: `Missing value for required parameter '<name>'.` when absent or empty, as MLflow's
    /// server answers.
    func required(_ value: String?, _ name: String) throws -> String {
        guard let value, !value.isEmpty else { throw MLflowHTTPError.missing(name) }
        return value
    }

    /// The experiments of one caller.
    func experiments(_ context: QuillRequestContext) -> MLflowExperimentResolver {
        MLflowExperimentResolver(api: api, caller: context.caller)
    }
}
