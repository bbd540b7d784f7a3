package import Foundation

/// Fast UTC ISO 8601 timestamps with microseconds, as every Quill file writes them
/// (`2026-11-24T16:20:01.123456Z`).
///
/// Formatting is done by hand because it runs once per logged row on the writer thread; parsing accepts the
/// `Z` and `+00:00` suffixes (Python's `isoformat()` writes the latter), other offsets, and 0 to 9
/// fractional digits.
package enum Timestamp {
    /// Microseconds since 1970-01-01T00:00:00Z, read from the realtime clock.
    @inline(__always)
    package static func nowMicroseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec / 1000)
    }

    /// The date for a count of microseconds since the epoch.
    package static func date(microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    /// Microseconds since the epoch for a date.
    package static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// Formats a date.
    package static func string(_ date: Date) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        append(microseconds: microseconds(date), into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the 27-byte text of a time given in microseconds since the epoch.
    package static func append(microseconds: Int64, into out: inout [UInt8]) {
        var seconds = microseconds / 1_000_000
        var micros = microseconds % 1_000_000
        if micros < 0 {
            micros += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        appendDigits(year, count: 4, into: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2, into: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2, into: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, count: 2, into: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, count: 2, into: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, count: 2, into: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(micros, count: 6, into: &out)
        out.append(UInt8(ascii: "Z"))
    }

    @inline(__always)
    private static func appendDigits(_ value: Int64, count: Int, into out: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Converts days since the epoch to a proleptic Gregorian (year, month, day).
    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Converts a proleptic Gregorian date to days since the epoch.
    private static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let adjustedYear = month <= 2 ? year - 1 : year
        let era = (adjustedYear >= 0 ? adjustedYear : adjustedYear - 399) / 400
        let yearOfEra = adjustedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Parses an ISO 8601 date-time; `nil` when the text is not one.
    package static func parse(_ text: String) -> Date? {
        guard let micros = parseMicroseconds(Array(text.utf8)) else { return nil }
        return date(microseconds: micros)
    }

    /// Parses an ISO 8601 date-time into microseconds since the epoch.
    package static func parseMicroseconds(_ bytes: [UInt8]) -> Int64? {
        bytes.withUnsafeBufferPointer { parseMicroseconds($0) }
    }

    /// Parses an ISO 8601 date-time into microseconds since the epoch, from bytes in memory (the fast paths
    /// that read metric rows take it without copying the text).
    package static func parseMicroseconds(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var index = 0
        func number(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for offset in 0..<count {
                let byte = bytes[index + offset]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
        func expect(_ first: UInt8, _ second: UInt8? = nil, _ third: UInt8? = nil) -> Bool {
            guard index < bytes.count else { return false }
            let byte = bytes[index]
            guard byte == first || byte == second || byte == third else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = days(year: year, month: month, day: day) * 86_400
        var micros: Int64 = 0
        if index < bytes.count {
            guard expect(UInt8(ascii: "T"), UInt8(ascii: " "), UInt8(ascii: "t")), let hour = number(2),
                expect(UInt8(ascii: ":")), let minute = number(2), hour < 24, minute < 60
            else { return nil }
            seconds += hour * 3600 + minute * 60
            if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
                index += 1
                guard let second = number(2), second <= 60 else { return nil }
                seconds += second
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",") {
                index += 1
                var digits = 0
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                    if digits < 6 {
                        micros = micros * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                    }
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<max(digits, 6) { micros *= 10 }
            }
            if index < bytes.count {
                if expect(UInt8(ascii: "Z"), UInt8(ascii: "z")) {
                    // UTC
                } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    let sign: Int64 = bytes[index] == UInt8(ascii: "+") ? 1 : -1
                    index += 1
                    guard let offsetHours = number(2) else { return nil }
                    _ = expect(UInt8(ascii: ":"))
                    guard let offsetMinutes = number(2) else { return nil }
                    seconds -= sign * (offsetHours * 3600 + offsetMinutes * 60)
                } else {
                    return nil
                }
            }
        }
        guard index == bytes.count else { return nil }
        return seconds * 1_000_000 + micros
    }
}
