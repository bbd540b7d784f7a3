import Foundation
import QuillCore

/// Where a page of a search ended: the last run's sort bucket, sort value, start time and id (keyset
/// paging), and the order it belongs to. Sent to clients as base64url of JSON, opaque to them.
package struct SearchCursor: Codable, Equatable, Sendable {
    /// The format version.
    package var version = 1
    /// ``SearchOrder/signature`` of the search that made it.
    package var order: String
    /// ``SearchOrder/Bucket`` raw value of the last run.
    package var bucket: Int
    /// The last run's numeric sort value, as the bits of the `Double` (exact, infinities included).
    package var number: UInt64?
    /// The last run's text sort value.
    package var text: String?
    /// The last run's start, in microseconds.
    package var startedAt: Int64
    /// The last run's id.
    package var id: String

    /// The numeric sort value.
    package var numberValue: Double? { number.map(Double.init(bitPattern:)) }

    /// The cursor as a client sees it.
    package var encoded: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let data = try? encoder.encode(self) else { preconditionFailure("a cursor always encodes") }
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads a cursor a client sent back, checking that it belongs to this order.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` for anything else.
    package init(decoding text: String, for order: SearchOrder) throws {
        let invalid = QuillError(
            .invalidArgument,
            "invalid cursor '\(text.prefix(40))'; pass the next_cursor of the previous page unchanged, with the same sort"
        )
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard text.count <= 4096, let data = Data(base64Encoded: base64),
            let cursor = try? JSONDecoder().decode(SearchCursor.self, from: data),
            cursor.version == 1, cursor.order == order.signature,
            order.buckets.contains(where: { $0.rawValue == cursor.bucket }),
            RunID(cursor.id) != nil
        else { throw invalid }
        switch SearchOrder.Bucket(rawValue: cursor.bucket) {
        case .number: guard let number = cursor.numberValue, !number.isNaN, cursor.text == nil else { throw invalid }
        case .text: guard cursor.text != nil, cursor.number == nil else { throw invalid }
        default: guard cursor.text == nil, cursor.number == nil else { throw invalid }
        }
        self = cursor
    }

    /// A cursor from its parts.
    package init(order: String, bucket: Int, number: Double?, text: String?, startedAt: Int64, id: String) {
        self.order = order
        self.bucket = bucket
        self.number = number?.bitPattern
        self.text = text
        self.startedAt = startedAt
        self.id = id
    }
}
