import Foundation
import GRDB
package import QuillCore
package import QuillStore

// Project tags, renames and the trash (projects and runs): migration "v16: project tags and the trash".
extension SQLiteTrackingStore {
    /// Changes a project's display name, tags and lifecycle stage in one transaction: removed tags go first,
    /// then set ones (a key in both ends up set); `updated_at` moves when anything changed.
    package func updateProject(_ id: Int64, _ update: ProjectUpdate) async throws -> StoredProject {
        let displayName = try TrackingRules.displayName(update)
        return try await write { db in
            guard var record = try ProjectRecord.fetchOne(db, key: id) else {
                throw TrackingRules.missingProject(id)
            }
            var changed = false
            if let displayName, displayName != record.displayName {
                // Display names are unique in a namespace, projects in the trash included (MLflow keeps a
                // deleted experiment's name taken). The writer is the only one writing, so the check holds.
                let taken = try ProjectRecord.filter(
                    ProjectRecord.Columns.namespace == record.namespace
                        && ProjectRecord.Columns.displayName == displayName && ProjectRecord.Columns.id != id
                ).fetchOne(db)
                if let taken {
                    throw TrackingRules.projectNameTaken(
                        namespace: record.namespace,
                        displayName: displayName,
                        inTrash: taken.deletedAt != nil
                    )
                }
                record.displayName = displayName
                changed = true
            }
            if !update.removedTags.isEmpty {
                let delete = try db.cachedStatement(sql: "DELETE FROM project_tags WHERE project_id = ? AND key = ?")
                for key in update.removedTags {
                    try delete.execute(arguments: [id, key])
                    if db.changesCount > 0 { changed = true }
                }
            }
            if !update.setTags.isEmpty {
                let upsert = try db.cachedStatement(
                    sql:
                        "INSERT INTO project_tags (project_id, key, value) VALUES (?, ?, ?) ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value"
                )
                for (key, value) in update.setTags { try upsert.execute(arguments: [id, key, value]) }
                changed = true
            }
            let now = Self.now()
            if let deleted = update.deleted, deleted != (record.deletedAt != nil) {
                record.deletedAt = deleted ? now : nil
                changed = true
            }
            if changed {
                record.updatedAt = now
                try record.update(db)
            }
            return try Self.storedProject(db, record)
        }
    }

    /// Moves a run to the trash or restores it; a run already there (or already active) is left as it is.
    /// The run's `updated_at` moves with a change (its last activity).
    package func setRunDeleted(_ id: RunID, _ deleted: Bool) async throws -> StoredRun {
        try await write { db in
            guard var record = try RunRecord.fetchOne(db, key: id.rawValue) else { throw Self.missing(id) }
            if deleted != (record.deletedAt != nil) {
                let now = Self.now()
                record.deletedAt = deleted ? now : nil
                record.updatedAt = now
                try record.update(db, columns: [RunRecord.Columns.deletedAt, RunRecord.Columns.updatedAt])
            }
            return try record.stored()
        }
    }

    /// The params a batch writes (``ParamConflict/paramsToWrite(_:runID:config:stored:)``), reading the run's
    /// config and stored params only when the batch may not change them. Runs inside the batch's write
    /// transaction, before anything is written, so two conflicting batches cannot both pass.
    static func paramsToWrite(_ db: Database, run: RunID, _ batch: LogBatch) throws -> [String: JSONValue] {
        guard ParamConflict.needsStoredParams(batch) else { return batch.params }
        let config = try String.fetchOne(
            db.cachedStatement(sql: "SELECT config FROM runs WHERE id = ?"),
            arguments: [run.rawValue]
        )
        var stored: [String: JSONValue] = [:]
        let select = try db.cachedStatement(sql: "SELECT value FROM params WHERE run_id = ? AND key = ?")
        for key in batch.params.keys {
            if let text = try String.fetchOne(select, arguments: [run.rawValue, key]) {
                stored[key] = RunRecord.json(text) ?? .null
            }
        }
        return try ParamConflict.paramsToWrite(batch, runID: run, config: RunRecord.json(config), stored: stored)
    }
}
