import Foundation
import QuillCore
import Synchronization

/// A kept-alive HTTP/1.1 connection over a plain socket, for the uploader's metric batches to an
/// `http://` server.
///
/// URLSession on Linux polls while it waits for a response: measured, the client burned about 8 s of CPU
/// time to upload 1,000,000 points that the server stored in 4 s, on the same cores. This sends the request
/// and blocks in `read` instead. Only idempotent requests go through it (batches the server deduplicates by
/// index), because a request on a connection the server closed while idle is sent again on a new one.
package final class PlainHTTPConnection: Sendable {
    private let host: String
    private let port: Int
    private let pathPrefix: String
    private let apiKey: String?
    private let timeout: Double
    private let connection = Mutex<Int32>(-1)

    /// A connection for `baseURL`, or `nil` when it is not a plain `http://` URL or a proxy is configured
    /// (`http_proxy`, which URLSession honours).
    package init?(baseURL: String, apiKey: String?, timeout: Double) {
        guard let components = URLComponents(string: baseURL), components.scheme?.lowercased() == "http",
            let host = components.host, !host.isEmpty, components.query == nil
        else { return nil }
        let environment = ProcessInfo.processInfo.environment
        guard (environment["http_proxy"] ?? environment["HTTP_PROXY"] ?? "").isEmpty else { return nil }
        self.host = host
        self.port = components.port ?? 80
        self.pathPrefix = components.percentEncodedPath
        self.apiKey = apiKey
        self.timeout = timeout
    }

    deinit {
        connection.withLock { fd in
            if fd >= 0 { close(fd) }
        }
    }

    /// Sends `POST path` with a JSON body and returns the status and JSON body of the response.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when the server cannot be reached.
    package func post(_ path: String, body: [UInt8]) throws -> BlockingHTTPClient.Response {
        var head = "POST \(pathPrefix)\(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        if let apiKey { head += "Authorization: Bearer \(apiKey)\r\n" }
        head += "\r\n"
        var request = Array(head.utf8)
        request.append(contentsOf: body)
        return try connection.withLock { fd in
            let reused = fd >= 0
            do {
                if fd < 0 { fd = try dial() }
                return try exchange(fd, request)
            } catch {
                if fd >= 0 { close(fd) }
                fd = -1
                // The server may have closed an idle connection: once more on a new one.
                guard reused else { throw error }
                fd = try dial()
                do {
                    return try exchange(fd, request)
                } catch {
                    close(fd)
                    fd = -1
                    throw error
                }
            }
        }
    }

    private func failure(_ what: String, _ code: Int32 = errno) -> QuillError {
        QuillError(
            .io,
            "the server at http://\(host):\(port) could not be reached (\(what): \(String(cString: strerror(code))))"
        )
    }

    private func dial() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Platform.streamSocketType
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(
            host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")),
            String(port),
            &hints,
            &list
        )
        guard status == 0, let first = list else {
            throw QuillError(.io, "the server at http://\(host):\(port) could not be reached (host not found)")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype | Platform.socketCloseOnExecFlag, 0)
            guard fd >= 0 else {
                lastError = errno
                continue
            }
            var time = timeval(tv_sec: Int(timeout), tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return fd }
            lastError = errno
            close(fd)
        }
        throw failure("connect", lastError)
    }

    private func exchange(_ fd: Int32, _ request: [UInt8]) throws -> BlockingHTTPClient.Response {
        var sent = 0
        while sent < request.count {
            let count = request.withUnsafeBytes {
                send(fd, $0.baseAddress.map { $0 + sent }, request.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw failure("send") }
            sent += count
        }
        var reader = ResponseReader(fd: fd)
        return try reader.response { self.failure($0, $1) }
    }
}

/// Reads one HTTP/1.1 response (a `Content-Length` or chunked body) from a socket.
private struct ResponseReader {
    let fd: Int32
    var buffer: [UInt8] = []
    var start = 0

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(16 << 10)
    }

    mutating func fill(_ failure: (String, Int32) -> QuillError) throws {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count == 0 { throw failure("recv", ECONNRESET) }
            guard count > 0 else { throw failure("recv", errno) }
            buffer.append(contentsOf: chunk[0..<count])
            return
        }
    }

    /// The bytes up to the next CRLF, without it.
    mutating func line(_ failure: (String, Int32) -> QuillError) throws -> ArraySlice<UInt8> {
        while true {
            if let end = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<end]
                start = end + 1
                return line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            }
            try fill(failure)
        }
    }

    mutating func bytes(_ count: Int, _ failure: (String, Int32) -> QuillError) throws -> ArraySlice<UInt8> {
        while buffer.count - start < count { try fill(failure) }
        defer { start += count }
        return buffer[start..<start + count]
    }

    mutating func response(_ failure: (String, Int32) -> QuillError) throws -> BlockingHTTPClient.Response {
        let statusLine = String(decoding: try line(failure), as: UTF8.self).split(separator: " ")
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw failure("not an HTTP response", EPROTO)
        }
        var length: Int?
        var chunked = false
        while true {
            let header = String(decoding: try line(failure), as: UTF8.self)
            if header.isEmpty { break }
            guard let colon = header.firstIndex(of: ":") else { continue }
            let name = header[..<colon].lowercased()
            let value = header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { length = Int(value) }
            if name == "transfer-encoding", value.lowercased().contains("chunked") { chunked = true }
        }
        var body: [UInt8] = []
        if chunked {
            while true {
                let sizeText = String(decoding: try line(failure), as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0,
                    size <= 64 << 20
                else { throw failure("a malformed chunked response", EPROTO) }
                if size == 0 {
                    while try !line(failure).isEmpty {}
                    break
                }
                body.append(contentsOf: try bytes(size, failure))
                _ = try line(failure)
            }
        } else if let length {
            guard length >= 0, length <= 64 << 20 else { throw failure("a response too large", EPROTO) }
            body = Array(try bytes(length, failure))
        } else if status != 204, status != 304 {
            throw failure("a response without a length", EPROTO)
        }
        return BlockingHTTPClient.Response(status: status, body: body.isEmpty ? nil : try? JSONParser.parse(body))
    }
}
