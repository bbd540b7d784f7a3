import Foundation
import QuillCore

/// How the CLI prints values.
enum Formatting {
    /// A time in the local time zone, to the minute: `2026-11-24 16:22`. Every table the CLI prints
    /// (runs, artifacts, keys, users, steps) shows times in this one form.
    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    /// A time the server sent as an RFC 3339 string, in the same form as ``time(_:)-(Date?)``; text that
    /// is not a time is shown as it is.
    static func time(_ text: String?) -> String {
        guard let text else { return "-" }
        guard let date = Timestamp.parse(text) else { return text }
        return time(date)
    }

    /// A duration: `850ms`, `42s`, `3m07s`, `2h05m`.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "-" }
        if seconds < 1 { return "\(Int(seconds * 1000))ms" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let total = Int(seconds)
        if total < 3600 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return String(format: "%dh%02dm", total / 3600, total % 3600 / 60)
    }

    /// A number for a table: integers as is, others to 6 significant digits, non-finite by name.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.6g", value)
    }

    /// A JSON value for a table cell.
    static func value(_ value: JSONValue?) -> String {
        guard let value else { return "-" }
        switch value {
        case .string(let text): return text
        case .double(let double): return number(double)
        case .int(let number): return String(number)
        case .bool(let flag): return String(flag)
        case .null: return "null"
        case .array, .object: return value.description
        }
    }

    /// A byte count: `512 B`, `1.5 KiB`, `3.2 MiB`.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
