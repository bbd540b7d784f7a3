public import Foundation
public import QuillCore

/// Who may see a project.
public enum ProjectVisibility: String, Sendable, Hashable, CaseIterable {
    /// Only the namespace's owner: the user of a personal namespace; for an organization, its owners and
    /// the member who created the project.
    case `private`
    /// Every member of the namespace.
    case `internal`
    /// Everyone, signed in or not.
    case `public`
}

/// A project as a store keeps it.
public struct StoredProject: Sendable, Hashable {
    /// The store's id of the project.
    public var id: Int64
    /// The user or organization that owns it.
    public var namespace: String
    /// The URL-safe name, unique in the namespace.
    public var slug: String
    /// The name as typed.
    public var displayName: String
    /// Who may see it.
    public var visibility: ProjectVisibility
    /// When it was created.
    public var createdAt: Date
    /// The user who created it, when a signed-in user did (`nil` in single-user mode).
    public var createdBy: String?
    /// Free-form tags of the project (MLflow's experiment tags), key to value.
    public var tags: [String: String] = [:]
    /// When the project was moved to the trash (MLflow's `deleted` lifecycle stage); `nil` while active.
    public var deletedAt: Date?
    /// When the project's name, tags or lifecycle last changed; `nil` when never since it was created.
    public var updatedAt: Date?

    /// Creates a value.
    public init(
        id: Int64,
        namespace: String,
        slug: String,
        displayName: String,
        visibility: ProjectVisibility,
        createdAt: Date,
        createdBy: String? = nil
    ) {
        self.createdBy = createdBy
        self.id = id
        self.namespace = namespace
        self.slug = slug
        self.displayName = displayName
        self.visibility = visibility
        self.createdAt = createdAt
    }
}

/// A run to create. Everything but the project is optional.
public struct NewRun: Sendable, Hashable {
    /// The id to use (a run synced from a run directory keeps its id); a new random one when `nil`.
    public var id: RunID?
    /// The project it belongs to.
    public var projectID: Int64
    /// The name; a random readable one when `nil`, a numeric suffix when taken.
    public var name: String?
    /// Free text.
    public var description: String?
    /// What the run does.
    public var kind: RunKind = .training
    /// The parent run.
    public var parent: RunID?
    /// The status; `running` by default.
    public var status: RunStatus = .running
    /// When it started; now by default.
    public var startedAt: Date?
    /// When it ended, for runs synced after the fact.
    public var endedAt: Date?
    /// Who ran it.
    public var user: String?
    /// Where it ran.
    public var host: String?
    /// The git state, as in `meta.json`'s `git_info`.
    public var git: JSONValue?
    /// Host and environment facts, as in `meta.json`'s `host`.
    public var environment: JSONValue?
    /// The config.
    public var config: [String: JSONValue] = [:]
    /// Tags.
    public var tags: [String: String] = [:]

    /// Creates a request for a project.
    public init(projectID: Int64) {
        self.projectID = projectID
    }
}

/// A run as a store keeps it.
public struct StoredRun: Sendable, Hashable {
    /// The id.
    public var id: RunID
    /// The project's store id.
    public var projectID: Int64
    /// The name, unique in the project.
    public var name: String
    /// Free text.
    public var description: String?
    /// What the run does.
    public var kind: RunKind
    /// The parent run.
    public var parent: RunID?
    /// The status.
    public var status: RunStatus
    /// When the record was created.
    public var createdAt: Date
    /// When the record last changed.
    public var updatedAt: Date
    /// When the run started.
    public var startedAt: Date
    /// When it ended.
    public var endedAt: Date?
    /// Who ran it.
    public var user: String?
    /// Where it ran.
    public var host: String?
    /// The git state.
    public var git: JSONValue?
    /// Host and environment facts.
    public var environment: JSONValue?
    /// The config.
    public var config: [String: JSONValue]
    /// The summary.
    public var summary: [String: JSONValue]
    /// When the run was moved to the trash (MLflow's `deleted` lifecycle stage); `nil` while active. A deleted
    /// run keeps everything it logged and can be restored.
    public var deletedAt: Date?

    /// Creates a value (backends build these from their rows).
    public init(
        id: RunID,
        projectID: Int64,
        name: String,
        description: String?,
        kind: RunKind,
        parent: RunID?,
        status: RunStatus,
        createdAt: Date,
        updatedAt: Date,
        startedAt: Date,
        endedAt: Date?,
        user: String?,
        host: String?,
        git: JSONValue?,
        environment: JSONValue?,
        config: [String: JSONValue],
        summary: [String: JSONValue]
    ) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.description = description
        self.kind = kind
        self.parent = parent
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.user = user
        self.host = host
        self.git = git
        self.environment = environment
        self.config = config
        self.summary = summary
    }
}

/// Changes to a run; `nil` fields stay as they are.
public struct RunUpdate: Sendable, Hashable {
    /// A new status.
    public var status: RunStatus?
    /// A new end time.
    public var endedAt: Date?
    /// A new name (refused when taken in the project).
    public var name: String?
    /// A new description.
    public var description: String?
    /// A new parent: `.some(nil)` removes it.
    public var parent: RunID??
    /// Values merged into the summary.
    public var summary: [String: JSONValue]?

    /// No changes.
    public init() {}
}

/// One metric value in a batch.
public struct MetricValue: Sendable, Hashable {
    /// The metric name.
    public var key: String
    /// The value; NaN and infinities are kept.
    public var value: Double
    /// The step; the store gives the next step for the key when `nil`.
    public var step: Int?
    /// When it was logged.
    public var timestamp: Date
    /// The row index it came from (`_idx` of `metrics.jsonl`); a value whose key and index the store
    /// already has is ignored, so sending a batch twice never duplicates a point. The store numbers a
    /// value without one after the key's last index.
    public var index: Int?

    /// Creates a value.
    public init(key: String, value: Double, step: Int? = nil, timestamp: Date = Date(), index: Int? = nil) {
        self.key = key
        self.value = value
        self.step = step
        self.timestamp = timestamp
        self.index = index
    }
}

/// Everything one logging request carries: the store's single write path for a run's data.
public struct LogBatch: Sendable, Hashable {
    /// Metric values.
    public var metrics: [MetricValue] = []
    /// Params to set.
    public var params: [String: JSONValue] = [:]
    /// Tags to set.
    public var tags: [String: String] = [:]
    /// Links to add.
    public var links: [RunLink] = []
    /// Log lines to append.
    public var logs: [LogLine] = []
    /// Tag keys to remove from the run (MLflow's `delete-tag`); a key that is not set is ignored.
    public var removedTags: [String] = []
    /// What a param already set to another value does: replaced (Quill's API), or the whole batch refused
    /// with `invalid_argument` naming the param (MLflow's rule: a param never changes once logged).
    public var paramChanges: ParamChangePolicy = .replace

    /// An empty batch.
    public init() {}

    /// Whether the batch carries nothing.
    public var isEmpty: Bool {
        metrics.isEmpty && params.isEmpty && tags.isEmpty && links.isEmpty && logs.isEmpty && removedTags.isEmpty
    }
}

/// What a batch did.
public struct BatchResult: Sendable, Hashable {
    /// Metric values stored.
    public var metricsWritten: Int
    /// Metric values ignored because the store already had their key and index.
    public var metricsIgnored: Int

    /// Creates a result.
    public init(metricsWritten: Int, metricsIgnored: Int) {
        self.metricsWritten = metricsWritten
        self.metricsIgnored = metricsIgnored
    }
}

/// Everything a store keeps about a run beyond its record.
public struct RunDetails: Sendable, Hashable {
    /// The record.
    public var run: StoredRun
    /// Params.
    public var params: [String: JSONValue]
    /// Tags.
    public var tags: [String: String]
    /// Links, oldest first.
    public var links: [RunLink]
    /// Statistics of each metric.
    public var metrics: [String: MetricStatistics]

    /// Creates a value.
    public init(
        run: StoredRun,
        params: [String: JSONValue],
        tags: [String: String],
        links: [RunLink],
        metrics: [String: MetricStatistics]
    ) {
        self.run = run
        self.params = params
        self.tags = tags
        self.links = links
        self.metrics = metrics
    }

    /// The values a ``RunQuery`` looks at.
    public var queryable: QueryableRun {
        var meta = RunMeta(
            id: run.id,
            name: run.name,
            project: Project(displayName: "-"),
            kind: run.kind,
            parent: run.parent,
            startedAt: run.startedAt
        )
        meta.status = run.status
        meta.finishedAt = run.endedAt
        meta.params = params
        meta.summary = run.summary
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) { meta.setTag(key, value) }
        if run.user != nil || run.host != nil {
            meta.host = HostInfo(
                hostname: run.host ?? "",
                user: run.user ?? "",
                pid: 0,
                processStartTicks: nil,
                os: "",
                swiftVersion: "",
                executable: "",
                commandLine: []
            )
        }
        var values = QueryableRun(meta: meta, config: .object(run.config), metrics: metrics)
        values.attributes["project"] = nil
        return values
    }
}

/// A search over runs: which projects, a filter, an order and a page.
public struct RunSearch: Sendable, Hashable {
    /// The projects to search in.
    public var projectIDs: [Int64]
    /// A filter, or `nil` for every run.
    public var query: RunQuery?
    /// The order; newest first when `nil`.
    public var sort: RunSort?
    /// The most runs in one page.
    public var limit: Int = 100
    /// Where the previous page ended (``RunPage/nextCursor``).
    public var cursor: String?
    /// Which runs the search sees: active ones (the default), deleted ones, or all.
    public var lifecycle: RunLifecycle = .active

    /// A search over projects.
    public init(projectIDs: [Int64]) {
        self.projectIDs = projectIDs
    }
}

/// One page of search results.
public struct RunPage: Sendable, Hashable {
    /// The runs, with their details.
    public var runs: [RunDetails]
    /// Pass this as ``RunSearch/cursor`` for the next page; `nil` on the last page.
    public var nextCursor: String?

    /// Creates a page.
    public init(runs: [RunDetails], nextCursor: String?) {
        self.runs = runs
        self.nextCursor = nextCursor
    }
}

/// What a ``LogBatch`` does with a param that already has another value.
public enum ParamChangePolicy: String, Sendable, Hashable, CaseIterable {
    /// The new value replaces the old one.
    case replace
    /// The batch is refused (`invalid_argument`, naming the param and both values) and nothing of it is written.
    case reject
}

/// Which runs a search sees, by lifecycle stage.
public enum RunLifecycle: String, Sendable, Hashable, CaseIterable {
    /// Runs not in the trash.
    case active
    /// Runs in the trash only.
    case deleted
    /// Both.
    case all
}

/// A change to a project: its name, its tags, its lifecycle stage. `nil` and empty members change nothing.
public struct ProjectUpdate: Sendable, Hashable {
    /// A new display name (the slug, and so the project's URLs, stay).
    public var displayName: String?
    /// Tags to set, key to value.
    public var setTags: [String: String] = [:]
    /// Tag keys to remove; a key that is not set is ignored.
    public var removedTags: [String] = []
    /// `true` moves the project to the trash, `false` restores it.
    public var deleted: Bool?

    /// A change that changes nothing.
    public init() {}
}
