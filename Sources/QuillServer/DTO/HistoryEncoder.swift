import QuillCore

/// Writes a metric history response straight into bytes: no intermediate `JSONValue` per point, so a
/// 100,000-point history costs one pass over the points.
///
/// The output is `{"downsampled", "key", "points": [{"idx", "step", "timestamp", "value"}], "total_points"}`,
/// keys sorted, non-finite values as the strings "NaN", "Infinity", "-Infinity".
enum HistoryEncoder {
    static func encode(key: String, points: [MetricPoint], totalPoints: Int, downsampled: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(points.count * 90 + 128)
        out.append(contentsOf: #"{"downsampled":"#.utf8)
        out.append(contentsOf: (downsampled ? "true" : "false").utf8)
        out.append(contentsOf: #","key":"#.utf8)
        JSONWriter.appendString(key, into: &out)
        out.append(contentsOf: #","points":["#.utf8)
        var cachedSecond: Int64 = 0
        var cachedPrefix: [UInt8] = []
        for (offset, point) in points.enumerated() {
            if offset > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"idx":"#.utf8)
            out.append(contentsOf: String(point.index).utf8)
            out.append(contentsOf: #","step":"#.utf8)
            if let step = point.step {
                out.append(contentsOf: String(step).utf8)
            } else {
                out.append(contentsOf: "null".utf8)
            }
            out.append(contentsOf: #","timestamp":""#.utf8)
            // Points logged in the same second share everything before the microseconds: format that once.
            let micros = Timestamp.microseconds(point.timestamp)
            let second = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
            if second != cachedSecond || cachedPrefix.isEmpty {
                cachedPrefix.removeAll(keepingCapacity: true)
                Timestamp.append(microseconds: second * 1_000_000, into: &cachedPrefix)
                cachedPrefix.removeLast(7)  // "000000Z"
                cachedSecond = second
            }
            out.append(contentsOf: cachedPrefix)
            appendSixDigits(micros - second * 1_000_000, into: &out)
            out.append(UInt8(ascii: "Z"))
            out.append(contentsOf: #"","value":"#.utf8)
            JSONWriter.appendDouble(point.value, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"total_points":"#.utf8)
        out.append(contentsOf: String(totalPoints).utf8)
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    private static func appendSixDigits(_ value: Int64, into out: inout [UInt8]) {
        var divisor: Int64 = 100_000
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
