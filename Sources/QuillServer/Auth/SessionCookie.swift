import Foundation
import HTTPTypes
import Hummingbird
import QuillCore

/// The dashboard's session cookie, `quill_session`: a random token the browser keeps and scripts on the page
/// cannot read (`HttpOnly`), sent only with requests from the server's own pages (`SameSite=Strict`); the
/// store keeps only its hash (``SessionStore``).
enum SessionCookie {
    static let name = "quill_session"
    /// How long a session lasts: 30 days.
    static let lifetime: TimeInterval = 30 * 86_400

    /// A new token: 32 random bytes as 64 hex digits.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }
            .joined()
    }

    /// The session token in the request's `Cookie` headers, when it has the shape of one.
    static func token(in headers: [String]) -> String? {
        for header in headers {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, parts[0] == name else { continue }
                let value = parts[1]
                if value.utf8.count == 64, value.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
                {
                    return value
                }
            }
        }
        return nil
    }

    /// The `Set-Cookie` value that gives the browser `token`; `Secure` when the server is reached over HTTPS.
    static func setCookie(_ token: String, secure: Bool) -> String {
        "\(name)=\(token); Path=/; Max-Age=\(Int(lifetime)); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The `Set-Cookie` value that makes the browser forget the session.
    static func clearCookie(secure: Bool) -> String {
        "\(name)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// Refuses a state-changing request made with the cookie alone from another site: the browser's
    /// `Sec-Fetch-Site` must say same-origin, or else its `Origin` must name the host the request was sent to.
    /// A client that sends neither is not a browser acting for someone else, and passes.
    static func refuseCrossSite(_ request: Request) throws {
        let refused = QuillError(
            .forbidden,
            "a request from another site may not act with the dashboard's session; use the dashboard itself, or send an API key"
        )
        if let name = secFetchSite, let site = request.headers[name] {
            guard site == "same-origin" || site == "none" else { throw refused }
        } else if let name = origin, let origin = request.headers[name] {
            guard sameOrigin(origin, authority: request.head.authority) else { throw refused }
        }
    }

    /// Whether an `Origin` header (`http://host:port`) names the authority the request was sent to.
    static func sameOrigin(_ origin: String, authority: String?) -> Bool {
        guard let url = URL(string: origin), let host = url.host, let authority else { return false }
        let expected = url.port.map { "\(host):\($0)" } ?? host
        return authority.lowercased() == expected.lowercased()
    }

    private static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")
    private static let origin = HTTPField.Name("Origin")
}
