/// One event of a `text/event-stream` response, as the HTML standard's server-sent events define it.
struct ServerSentEvent: Sendable, Equatable {
    /// The event's name (`event:`).
    var name: String
    /// Its id (`id:`), which the client sends back as `Last-Event-ID` when it reconnects.
    var id: String?
    /// Its data: UTF-8 text, one `data:` line per line of it.
    var data: [UInt8]

    /// The event's bytes, ending with the blank line that dispatches it.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + name.utf8.count + (id?.utf8.count ?? 0) + 32)
        if let id {
            out.append(contentsOf: "id: ".utf8)
            // An id with a line break or NUL would end the field early; ids here are base64url.
            out.append(contentsOf: id.utf8.filter { $0 != 0x0A && $0 != 0x0D && $0 != 0 })
            out.append(0x0A)
        }
        out.append(contentsOf: "event: ".utf8)
        out.append(contentsOf: name.utf8.filter { $0 != 0x0A && $0 != 0x0D })
        out.append(0x0A)
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            out.append(contentsOf: "data: ".utf8)
            out.append(contentsOf: line.filter { $0 != 0x0D })
            out.append(0x0A)
        }
        out.append(0x0A)
        return out
    }

    /// A comment line: ignored by clients, it keeps an idle connection open.
    static let heartbeat = Array(": heartbeat\n\n".utf8)
}
