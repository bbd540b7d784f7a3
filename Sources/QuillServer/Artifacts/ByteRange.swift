/// What a `Range` request header asks of a file, for downloads (RFC 9110, section 14).
///
/// Only single ranges are served: `bytes=a-b`, `bytes=a-` and `bytes=-n`. A header that is malformed or
/// lists several ranges is ignored and the whole file is sent, as the RFC allows.
enum ByteRange: Equatable {
    /// Send the whole file (no header, or one that is ignored).
    case whole
    /// Send these bytes with 206 Partial Content.
    case partial(ClosedRange<Int64>)
    /// Answer 416: the range starts past the end of the file.
    case unsatisfiable

    /// Reads a header for a file of `size` bytes.
    static func parse(_ header: String?, size: Int64) -> ByteRange {
        guard let header, header.hasPrefix("bytes=") else { return .whole }
        let spec = header.dropFirst("bytes=".count).trimmingWhitespace()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash]
        let second = spec[spec.index(after: dash)...]
        if first.isEmpty {
            guard let suffix = Int64(second), suffix >= 0 else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - suffix)...(size - 1))
        }
        guard let start = Int64(first), start >= 0 else { return .whole }
        var end = size - 1
        if !second.isEmpty {
            guard let last = Int64(second), last >= start else { return .whole }
            end = min(last, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .partial(start...end)
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
