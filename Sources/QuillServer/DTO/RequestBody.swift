import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QuillAPI
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

    /// The request body decoded into its wire type, strictly (``APIDecoder``): unknown fields, wrong types
    /// and NUL bytes are 400s that name the field. With `allowEmpty`, an empty body reads as `{}`.
    func body<Body: Decodable>(_ type: Body.Type, _ request: Request, allowEmpty: Bool = false) async throws -> Body {
        try APIDecoder().decode(type, from: try await json(request, allowEmpty: allowEmpty))
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
    /// (``MetricBatchDecoder``), anything else decoded into ``APIBatch``.
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
        return try batch(APIDecoder().decode(APIBatch.self, from: APIContext.json(from: buffer)), now: now)
    }
}

/// JSON responses.
enum JSONResponse {
    /// A JSON value as the answer (the OpenAPI document, the few answers without a wire type).
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        bytes(JSONWriter.bytes(value), status: status)
    }

    /// A wire type as the answer, written by ``APIEncoder``.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        bytes(try APIEncoder().bytes(value), status: status)
    }

    private static func bytes(_ body: [UInt8], status: HTTPResponse.Status) -> Response {
        var body = body
        body.append(UInt8(ascii: "\n"))
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
