import Foundation
import Hummingbird
import NIOCore
import QuillCore
import QuillStore

extension APIContext {
    /// The request body as bytes, refusing bodies over the limit with 413.
    func bodyBytes(_ request: Request) async throws -> ByteBuffer {
        var request = request
        do {
            return try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw QuillError(
                .payloadTooLarge,
                "the request body is larger than \(configuration.maxBodyBytes) bytes; send smaller batches"
            )
        }
    }

    /// Parses a request body as JSON, with the same errors as ``json(_:)``.
    static func json(from buffer: ByteBuffer) throws -> JSONValue {
        guard buffer.readableBytes > 0 else { throw QuillError(.invalidArgument, "the request needs a JSON body") }
        do {
            return try buffer.withUnsafeReadableBytes { (raw) throws(JSONParseError) -> JSONValue in
                try JSONParser.parse(buffer: raw.assumingMemoryBound(to: UInt8.self))
            }
        } catch {
            throw QuillError(.malformed, "the request body is not valid JSON: \(error)")
        }
    }
}

extension LogBatchReader {
    /// Reads the batch endpoint's body: the common `{"metrics": […]}` shape straight from the bytes
    /// (``MetricBatchDecoder``), anything else through the JSON parser and ``batch(from:)-(JSONValue)``.
    static func batch(from buffer: ByteBuffer) throws -> LogBatch {
        let now = Date()
        let metrics = buffer.withUnsafeReadableBytes { raw in
            MetricBatchDecoder.decode(raw.assumingMemoryBound(to: UInt8.self), now: now)
        }
        if let metrics {
            var batch = LogBatch()
            batch.metrics = metrics
            return batch
        }
        return try batch(from: APIContext.json(from: buffer))
    }
}
