import Foundation
import QuillCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension BlockingHTTPClient {
    /// Checks that a server URL names its scheme, before any request is built from it.
    ///
    /// `127.0.0.1:8080` would otherwise parse as a URL with scheme `127.0.0.1`, and URLSession's answer
    /// says nothing about the missing `http://`.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` naming the URL to pass instead.
    package static func checkServerURL(_ url: String) throws {
        let lowered = url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            let suggestion = url.contains("://") ? "http://HOST:PORT" : "http://" + url
            throw QuillError(
                .invalidArgument,
                "the server URL '\(url)' needs a scheme, e.g. \(suggestion) (in --server or QUILL_TRACKING_URI)"
            )
        }
    }

    /// A few words on why a request failed to reach the server: `connection refused`, `host not found`.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? URLError else {
            let nsError = error as NSError
            return nsError.domain == NSPOSIXErrorDomain
                ? String(cString: strerror(Int32(truncatingIfNeeded: nsError.code)))
                : "\(nsError.domain) \(nsError.code)"
        }
        switch error.code {
        case .cannotConnectToHost: return "connection refused"
        case .cannotFindHost, .dnsLookupFailed: return "host not found"
        case .timedOut: return "timed out"
        case .networkConnectionLost: return "the connection was closed"
        case .notConnectedToInternet: return "no network"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            return "TLS failed"
        case .badServerResponse: return "not an HTTP server"
        case .unsupportedURL: return "unsupported URL"
        default: return "URL error \(error.code.rawValue)"
        }
    }
}
