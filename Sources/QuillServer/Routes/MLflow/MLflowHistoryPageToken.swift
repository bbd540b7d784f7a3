import Foundation
import QuillAPI
import QuillCore

/// The page token of `metrics/get-history`: base64 of `{"offset": N}` as MLflow's server writes it (N points were
/// sent before this page), plus `"quill_index"`, the index of the last point sent, when the metric's index order
/// is MLflow's order, so the next page is read from the store by index instead of reading the whole history.
/// MLflow's own tokens (offset only) are read too.
struct MLflowHistoryPageToken: Sendable, Equatable {
    /// How many points earlier pages had.
    var offset: Int
    /// The index of the last point sent, when pages follow index order.
    var lastIndex: Int?

    /// The token's text.
    var text: String {
        var json = "{\"offset\": \(offset)"
        if let lastIndex { json += ", \"quill_index\": \(lastIndex)" }
        json += "}"
        return Data(json.utf8).base64EncodedString()
    }

    /// Reads a token, refusing a malformed one with MLflow's messages.
    static func parse(_ text: String) throws -> MLflowHistoryPageToken {
        var padded = text.trimmingCharacters(in: .whitespaces)
        while padded.utf8.count % 4 != 0 { padded += "=" }
        guard let data = Data(base64Encoded: padded) else {
            throw MLflowHTTPError(.invalidParameterValue, "Invalid page token, could not base64-decode")
        }
        let decoded = String(decoding: data, as: UTF8.self)
        guard let value = try? JSONParser.parse(Array(data)), case .object(let object) = value else {
            throw MLflowHTTPError(.invalidParameterValue, "Invalid page token, decoded value=\(decoded)")
        }
        guard let offsetValue = object["offset"], offsetValue != .null, offsetValue != .int(0),
            offsetValue != .double(0), offsetValue != .string(""), offsetValue != .bool(false)
        else {
            throw MLflowHTTPError(.invalidParameterValue, "Invalid page token, parsed value=\(decoded)")
        }
        guard let offset = integer(offsetValue) else {
            throw MLflowHTTPError(.invalidParameterValue, "Invalid page token, not stringable \(describe(offsetValue))")
        }
        // A negative offset starts at the beginning, as SQL's OFFSET does in MLflow's store.
        var token = MLflowHistoryPageToken(offset: max(0, offset), lastIndex: nil)
        if let index = object["quill_index"].flatMap(integer) { token.lastIndex = index }
        return token
    }

    private static func integer(_ value: JSONValue) -> Int? {
        switch value {
        case .int(let number):
            return number
        case .double(let number):
            guard number.rounded(.towardZero) == number, abs(number) < 9.2e18 else { return nil }
            return Int(number)
        case .string(let text):
            return Int(text.trimmingCharacters(in: .whitespaces))
        default:
            return nil
        }
    }

    private static func describe(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return String(decoding: JSONWriter.bytes(value), as: UTF8.self)
    }
}
