package import QuillCore

/// The rules of ``TrackingStore`` that are not SQL, and the words of its refusals, once for every backend.
package enum TrackingRules {
    // MARK: Refusals

    /// An unknown run.
    package static func missingRun(_ id: RunID) -> QuillError {
        QuillError(.notFound, "run '\(id)' not found")
    }

    /// An unknown project.
    package static func missingProject(_ id: Int64) -> QuillError {
        QuillError(.notFound, "project \(id) not found")
    }

    /// A run created in an unknown project.
    package static func missingProjectOfRun(_ id: Int64) -> QuillError {
        QuillError(.notFound, "project \(id) not found; create it first")
    }

    /// An unknown parent.
    package static func missingParent(_ parent: RunID) -> QuillError {
        QuillError(.notFound, "parent run '\(parent)' not found")
    }

    /// A run made its own parent.
    package static let ownParent = QuillError(.invalidArgument, "a run cannot be its own parent")

    /// A parent that descends from the run.
    package static func descendantParent(_ parent: RunID, of run: RunID) -> QuillError {
        QuillError(.invalidArgument, "run '\(parent)' descends from '\(run)'; a parent cannot be its own descendant")
    }

    /// A requested run id that is taken.
    package static func runIDTaken(_ id: RunID) -> String {
        "a run with id '\(id)' already exists; leave the id out to get a fresh one, or choose another"
    }

    /// A new run name that is taken in the project.
    package static func runNameTaken(_ name: String) -> String {
        "the project already has a run named '\(name)'; choose another name"
    }

    /// A display name another project of the namespace has (in the trash or not).
    package static func projectNameTaken(namespace: String, displayName: String, inTrash: Bool) -> QuillError {
        let trash = inTrash ? " (in the trash)" : ""
        return QuillError(
            .conflict,
            "namespace '\(namespace)' already has a project named '\(displayName)'\(trash); choose another name"
        )
    }

    // MARK: Rules

    /// The display name a ``ProjectUpdate`` sets, trimmed, or `nil` when it sets none.
    ///
    /// - Throws: ``QuillError/Code/invalidArgument`` for a name of only whitespace.
    package static func displayName(_ update: ProjectUpdate) throws -> String? {
        let displayName = update.displayName?.trimmingWhitespace()
        if displayName?.isEmpty == true {
            throw QuillError(.invalidArgument, "a project's display name must not be empty; give a name")
        }
        return displayName
    }

    /// Whether a batch moves its run's `updated_at` (last written at `updatedAt`, now `now`): any batch that
    /// carries more than metrics does; one of only metrics at most once a second, so a stream of small batches
    /// does not rewrite the run's row every time.
    package static func touchesRun(_ batch: LogBatch, updatedAt: Int64, now: Int64) -> Bool {
        !batch.isEmpty && (!onlyMetrics(batch) || now - updatedAt >= 1_000_000)
    }

    /// Whether a batch carries nothing but metric values (or nothing).
    package static func onlyMetrics(_ batch: LogBatch) -> Bool {
        batch.params.isEmpty && batch.tags.isEmpty && batch.removedTags.isEmpty && batch.links.isEmpty
            && batch.logs.isEmpty
    }

    /// Whether a batch writing `params` changes what searches see of its run (params or tags).
    package static func changesSearchFields(_ batch: LogBatch, params: [String: JSONValue]) -> Bool {
        !params.isEmpty || !batch.tags.isEmpty || !batch.removedTags.isEmpty
    }
}

extension TrackingRules {
    /// A project's or run's new `deleted_at` when a request moves it to the trash (`true`) or restores it
    /// (`false`), or `nil` when nothing changes (no request, or already there: the first deletion time stays).
    package static func trashChange(_ deleted: Bool?, deletedAt: Int64?, now: Int64) -> Int64?? {
        guard let deleted, deleted != (deletedAt != nil) else { return nil }
        return .some(deleted ? now : nil)
    }

    /// Runs with their details, in the runs' order, from what a backend read for all of them at once (by run
    /// id): the one assembly of ``RunDetails`` (a run page and a search page both come here).
    package static func details(
        _ runs: [StoredRun],
        params: [String: [String: JSONValue]],
        tags: [String: [String: String]],
        links: [String: [RunLink]],
        metrics: [String: [String: MetricStatistics]]
    ) -> [RunDetails] {
        runs.map { run in
            let id = run.id.rawValue
            return RunDetails(
                run: run,
                params: params[id] ?? [:],
                tags: tags[id] ?? [:],
                links: links[id] ?? [],
                metrics: metrics[id] ?? [:]
            )
        }
    }
}
