import Foundation
import QuillCore

/// Removes artifact blobs that no record names any more (after runs were deleted), keeping every blob
/// changed within a grace period.
///
/// The sweep lists the blobs first and asks the store which hashes are referenced afterwards, so a record
/// written before that question protects its blob; a blob that a new upload reused is touched by the upload
/// (``BlobStore``), so the grace period protects it while its record is being written. It never looks in
/// `tmp/`, where uploads in flight live, and it can run while `quill serve` runs.
package enum BlobGarbageCollector {
    /// What a sweep removed (or, in a dry run, would remove).
    package struct Report: Sendable {
        /// The blobs, by content hash.
        package var removed: [String] = []
        /// Their bytes.
        package var bytes: Int64 = 0
        /// Blobs kept: referenced or changed within the grace period.
        package var kept = 0
    }

    /// Sweeps `<root>/sha256/`.
    ///
    /// - Parameters:
    ///   - root: The artifact folder (`<data>/artifacts`).
    ///   - grace: Seconds; blobs changed more recently are kept whatever the records say.
    ///   - dryRun: Report without removing.
    ///   - referenced: Asked after the blobs are listed: the hashes records name.
    package static func sweep(
        root: String,
        grace: Double,
        dryRun: Bool,
        referenced: () async throws -> Set<String>
    ) async throws -> Report {
        let manager = FileManager.default
        let base = root + "/sha256"
        var candidates: [(hash: String, path: String)] = []
        var report = Report()
        for prefix in (try? manager.contentsOfDirectory(atPath: base)) ?? [] where prefix.count == 2 {
            for rest in (try? manager.contentsOfDirectory(atPath: base + "/" + prefix)) ?? [] {
                let hash = prefix + rest
                guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else { continue }
                candidates.append((hash, "\(base)/\(prefix)/\(rest)"))
            }
        }
        let keep = try await referenced()
        let cutoff = Date().addingTimeInterval(-grace)
        for (hash, path) in candidates.sorted(by: { $0.hash < $1.hash }) {
            let attributes = try? manager.attributesOfItem(atPath: path)
            let modified = attributes?[.modificationDate] as? Date ?? Date()
            guard !keep.contains(hash), modified < cutoff else {
                report.kept += 1
                continue
            }
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            if !dryRun {
                guard unlink(path) == 0 else { throw QuillError.posix("removing", path: path, errno: errno) }
            }
            report.removed.append(hash)
            report.bytes += size
        }
        return report
    }
}
