import Foundation
import QuillAPI
import QuillStore

/// The page token of ``MLflowRunSearch``: base64url of JSON, opaque to clients. It names the search it
/// belongs to (a fingerprint of the filter, order and lifecycle) and where the next page starts: a group of
/// ties in the store's order and how many of its runs were returned, or an offset in an in-memory order.
struct MLflowPageToken: Codable, Equatable {
    /// The format version.
    var v = 1
    /// ``fingerprint(filter:orderBy:lifecycle:)`` of the search.
    var f: String
    /// The offset (in-memory orders).
    var o: Int?
    /// The group's bucket, value bits and start millisecond (store orders).
    var b: Int?
    var n: UInt64?
    var t: Int64?
    /// How many runs of the group were returned.
    var s: Int?

    init(fingerprint: String, offset: Int) {
        f = fingerprint
        o = offset
    }

    init(fingerprint: String, group: MLflowRunSearch.Group, skip: Int) {
        f = fingerprint
        b = group.bucket
        n = group.value
        t = group.start
        s = skip
    }

    var offset: Int? { o }
    var skip: Int? { s }
    var group: MLflowRunSearch.Group? { b.map { MLflowRunSearch.Group(bucket: $0, value: n, start: t) } }

    /// The token as a client sees it.
    var encoded: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let data = try? encoder.encode(self) else { preconditionFailure("a page token always encodes") }
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads a token a client sent back, checking that it belongs to this search.
    init(decoding text: String, fingerprint: String, keyset: Bool) throws(MLflowHTTPError) {
        let invalid = MLflowHTTPError(
            .invalidParameterValue,
            "Invalid page token '\(text.prefix(40))'; pass the next_page_token of the previous page unchanged, with the same filter, order_by and run_view_type"
        )
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard text.count <= 1024, let data = Data(base64Encoded: base64),
            let token = try? JSONDecoder().decode(MLflowPageToken.self, from: data),
            token.v == 1, token.f == fingerprint
        else { throw invalid }
        if keyset {
            guard let bucket = token.b, (0...2).contains(bucket), let skip = token.s, skip >= 0, skip <= 1_000_000_000,
                token.o == nil, bucket == 0 || token.n == nil
            else { throw invalid }
            if let bits = token.n, Double(bitPattern: bits).isNaN { throw invalid }
        } else {
            guard let offset = token.o, offset >= 0, offset <= 1_000_000_000, token.b == nil else { throw invalid }
        }
        self = token
    }

    /// A stable 64-bit FNV-1a hash, in hex, of what makes a search.
    static func fingerprint(filter: String, orderBy: [String], lifecycle: RunLifecycle) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in [filter] + orderBy + [lifecycle.rawValue] {
            for byte in part.utf8 + [0] {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return String(hash, radix: 16)
    }
}
