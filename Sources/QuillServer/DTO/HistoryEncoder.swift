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
            Timestamp.append(microseconds: Timestamp.microseconds(point.timestamp), into: &out)
            out.append(contentsOf: #"","value":"#.utf8)
            JSONWriter.appendDouble(point.value, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"total_points":"#.utf8)
        out.append(contentsOf: String(totalPoints).utf8)
        out.append(contentsOf: "}\n".utf8)
        return out
    }
}
