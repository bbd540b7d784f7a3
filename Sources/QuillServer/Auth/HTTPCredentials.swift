import Foundation
import QuillCore

/// Reading API keys from the credentials peer clients send.
///
/// whirr's client (httpx) sends a URL's user info, and MLflow's client `MLFLOW_TRACKING_USERNAME` and
/// `MLFLOW_TRACKING_PASSWORD`, as HTTP Basic credentials: the password is then the Quill API key, and the user
/// name is not checked (the key names its user).
enum HTTPCredentials {
    /// The header as a bearer credential: `Basic base64(user:key)` becomes `Bearer key`; any other header is
    /// returned as it is (the authenticator refuses what it cannot read).
    static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic" else { return header }
        guard let decoded = Data(base64Encoded: String(parts[1]).trimmingWhitespace()),
            let text = String(data: decoded, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return header }
        return "Bearer " + text[text.index(after: colon)...]
    }
}
