import Foundation
package import QuillCore

/// The paths of the server's routes the client calls, built in one place (the literal API prefix appears
/// only here), with their parameters percent-encoded.
package enum ServerPaths {
    /// The prefix of every API route.
    static let api = "/api/v1"

    /// `GET /healthz`: whether the server answers at all.
    package static let health = "/healthz"
    /// `GET …/whoami`: who the caller is, and the server's mode.
    package static let whoami = api + "/whoami"
    /// `GET …/status`: the server's identity and version.
    package static let status = api + "/status"
    /// `GET` searches runs, `POST` creates one.
    package static let runs = api + "/runs"
    /// `GET`, `POST` a user's API keys.
    package static let keys = api + "/keys"
    /// `POST` creates an organization.
    package static let orgs = api + "/orgs"

    /// One run.
    package static func run(_ id: RunID) -> String { runs + "/" + id.rawValue }

    /// A run's batch endpoint.
    package static func batch(_ id: RunID) -> String { run(id) + "/batch" }

    /// A run's links.
    package static func links(_ id: RunID) -> String { run(id) + "/links" }

    /// A run's log lines.
    package static func logs(_ id: RunID) -> String { run(id) + "/logs" }

    /// A run's metric history (with `?key=`).
    package static func metrics(_ id: RunID) -> String { run(id) + "/metrics" }

    /// A run's artifact records.
    package static func artifacts(_ id: RunID) -> String { run(id) + "/artifacts" }

    /// The bytes of a run's artifact (with `?path=`).
    package static func artifactContent(_ id: RunID) -> String { artifacts(id) + "/content" }

    /// One API key, by id.
    package static func key(_ id: Int) -> String { keys + "/\(id)" }

    /// One organization.
    package static func org(_ name: String) -> String { orgs + "/" + component(name) }

    /// One member of an organization.
    package static func orgMember(_ organization: String, _ user: String) -> String {
        org(organization) + "/members/" + component(user)
    }

    /// A path with a query string built from name-value pairs, each value percent-encoded; pairs whose
    /// value is `nil` are left out.
    package static func query(_ path: String, _ parameters: [(String, String?)]) -> String {
        let pairs = parameters.compactMap { name, value in value.map { "\(name)=\(queryValue($0))" } }
        return pairs.isEmpty ? path : path + "?" + pairs.joined(separator: "&")
    }

    /// A path component, percent-encoded.
    package static func component(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// A query value, percent-encoded (including `&`, `=`, `+`, `?` and `#`).
    package static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
