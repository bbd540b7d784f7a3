import Foundation
package import QuillCore
package import QuillStore

// Project tags, renames and the trash (projects and runs). Being built this session (issue 13): until the
// store helper's branch lands, these refuse with `unavailable`.
extension SQLiteTrackingStore {
    package func updateProject(_ id: Int64, _ update: ProjectUpdate) async throws -> StoredProject {
        throw QuillError(.unavailable, "changing a project's name, tags or lifecycle is not built yet")
    }

    package func setRunDeleted(_ id: RunID, _ deleted: Bool) async throws -> StoredRun {
        throw QuillError(.unavailable, "moving a run to the trash is not built yet")
    }
}
