package import QuillCore

/// How many of each thing an import read or wrote.
package struct ImportCounts: Sendable, Hashable {
    /// Experiments (projects).
    package var experiments = 0
    /// Runs.
    package var runs = 0
    /// Metric points.
    package var points = 0
    /// Artifact files.
    package var artifacts = 0
    /// Output lines (whirr's `output.log`).
    package var logLines = 0

    /// No counts.
    package init() {}

    /// The counts as JSON members.
    package var json: JSONValue {
        [
            "experiments": .int(experiments), "runs": .int(runs), "points": .int(points),
            "artifacts": .int(artifacts), "log_lines": .int(logLines),
        ]
    }
}

/// What an import did: what the source holds, what was new to the store, and what was left out and why.
package struct ImportReport: Sendable, Hashable {
    /// The source, as messages name it.
    package var source: String
    /// What the source holds (everything read).
    package var read = ImportCounts()
    /// What the store did not have before (all zero on a second import of unchanged data; zero on a dry run).
    package var written = ImportCounts()
    /// What was left out, merged by kind and reason.
    package private(set) var skipped: [ImportSkip] = []
    /// Whether nothing was written (`--dry-run`).
    package var dryRun: Bool

    /// An empty report.
    package init(source: String, dryRun: Bool) {
        self.source = source
        self.dryRun = dryRun
    }

    /// Adds skips, merging those of the same kind and reason.
    package mutating func skip(_ skips: [ImportSkip]) {
        for skip in skips where skip.count > 0 {
            if let index = skipped.firstIndex(where: { $0.what == skip.what && $0.reason == skip.reason }) {
                skipped[index].count += skip.count
            } else {
                skipped.append(skip)
            }
        }
    }

    /// The final line: the counts, then each skip.
    ///
    /// `imported 3 experiments, 8 runs, 5,052 points, 4 artifacts (new: …); skipped 2 artifacts: s3:// URIs are not readable here`
    package var summary: String {
        func counts(_ counts: ImportCounts) -> String {
            var parts = [
                Self.plural(counts.experiments, "experiment"), Self.plural(counts.runs, "run"),
                Self.plural(counts.points, "point"), Self.plural(counts.artifacts, "artifact"),
            ]
            if counts.logLines > 0 { parts.append(Self.plural(counts.logLines, "output line")) }
            return parts.joined(separator: ", ")
        }
        var line = dryRun ? "would import \(counts(read)) (dry run: nothing written)" : "imported \(counts(read))"
        if !dryRun {
            line +=
                read == written
                ? " (all new)" : written == ImportCounts() ? " (nothing new)" : " (new: \(counts(written)))"
        }
        for skip in skipped {
            line +=
                "; skipped \(Self.plural(skip.count, String(skip.what.dropLast(skip.what.hasSuffix("s") ? 1 : 0)))): \(skip.reason)"
        }
        return line
    }

    /// The report as JSON (`--json`).
    package var json: JSONValue {
        [
            "source": .string(source), "dry_run": .bool(dryRun), "read": read.json,
            "written": written.json,
            "skipped": .array(
                skipped.map { ["what": .string($0.what), "count": .int($0.count), "reason": .string($0.reason)] }
            ),
        ]
    }

    /// `1 run`, `2 runs`, `5,000 points`.
    static func plural(_ count: Int, _ noun: String) -> String {
        var digits = String(count.magnitude)
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + digits.suffix(3) + grouped
            digits.removeLast(3)
        }
        return "\(count < 0 ? "-" : "")\(digits)\(grouped) \(noun)\(count == 1 ? "" : "s")"
    }
}

/// Where an import is: runs done out of all, and points so far.
package struct ImportProgress: Sendable, Hashable {
    /// Runs imported so far.
    package var runsDone: Int
    /// Runs to import.
    package var runsTotal: Int
    /// Metric points read so far.
    package var points: Int
}
