import Foundation
import QuillAPI
import QuillCore
import QuillStore

/// Experiments as projects, for one caller (see Docs/MLflow.md):
///
/// - an experiment's id is its project's id in decimal, except the caller's `Default` project (display name
///   `Default`, slug `default`, in the caller's default namespace), which is always `"0"`, and is made on first
///   use by a caller who may create projects there;
/// - its name is the project's display name in the caller's default namespace, `<namespace>/<display name>`
///   elsewhere.
struct MLflowExperimentResolver: Sendable {
    let api: APIContext
    let caller: Caller

    /// The id of the `Default` experiment.
    static let defaultID = "0"
    /// The name of the `Default` experiment.
    static let defaultName = "Default"
    /// The slug of the `Default` project.
    static let defaultSlug = Project.slug(for: defaultName)

    /// The caller's default namespace: projects there are named by their display name alone.
    var namespace: String { api.defaultNamespace(caller) }

    /// Whether `project` is the caller's `Default` experiment.
    func isDefault(_ project: StoredProject) -> Bool {
        project.namespace == namespace && project.slug == Self.defaultSlug
    }

    /// A project's experiment id for the caller.
    func id(_ project: StoredProject) -> String {
        isDefault(project) ? Self.defaultID : String(project.id)
    }

    /// A project's experiment name for the caller.
    func name(_ project: StoredProject) -> String {
        if isDefault(project) { return Self.defaultName }
        return project.namespace == namespace ? project.displayName : "\(project.namespace)/\(project.displayName)"
    }

    /// A project as the caller's experiment.
    func experiment(_ project: StoredProject) -> MLflowExperiment {
        MLflowMapping.experiment(project, id: id(project), name: name(project))
    }

    // MARK: By id

    /// The project an experiment id names, when the caller may read it; `"0"` is the caller's `Default`
    /// (made when missing). `RESOURCE_DOES_NOT_EXIST` for an unknown or unreadable one, as MLflow says it.
    func readable(_ text: String) async throws -> StoredProject {
        if text == Self.defaultID { return try await defaultProject() }
        let id = try Self.parse(text)
        do {
            return try await api.authorization.readProject(id: id, caller)
        } catch let error as QuillError where error.code == .notFound {
            throw Self.notFound(text)
        }
    }

    /// The project an experiment id names, when the caller may create runs in it.
    func writable(_ text: String) async throws -> StoredProject {
        try api.authorization.requireWriter(caller)
        if text == Self.defaultID { return try await defaultProject() }
        let id = try Self.parse(text)
        do {
            return try await api.authorization.writeProject(id: id, caller)
        } catch let error as QuillError where error.code == .notFound {
            throw Self.notFound(text)
        }
    }

    /// The project an experiment id names, when the caller may change it (rename, tag, delete, restore).
    func managed(_ text: String) async throws -> StoredProject {
        try api.authorization.requireWriter(caller)
        let id: Int64
        if text == Self.defaultID {
            id = try await defaultProject().id
        } else {
            id = try Self.parse(text)
        }
        do {
            return try await api.authorization.manageProject(id: id, caller)
        } catch let error as QuillError where error.code == .notFound {
            throw Self.notFound(text)
        }
    }

    /// The caller's `Default` project, made when missing by a caller who may create projects in their
    /// namespace; `RESOURCE_DOES_NOT_EXIST` for anyone else.
    func defaultProject() async throws -> StoredProject {
        if let existing = try await api.store.project(namespace: namespace, slug: Self.defaultSlug) {
            do {
                try api.authorization.check(caller, .read, existing, notFound: QuillError(.notFound, ""))
                return existing
            } catch let error as QuillError where error.code == .notFound {
                throw Self.notFound(Self.defaultID)
            }
        }
        do {
            return try await api.authorization.createProject(in: namespace, displayName: Self.defaultName, caller)
        } catch let error as QuillError where [.unauthorized, .forbidden, .notFound].contains(error.code) {
            throw Self.notFound(Self.defaultID)
        }
    }

    /// An experiment id as a project id: MLflow's ids are integers.
    static func parse(_ text: String) throws -> Int64 {
        guard let id = Int64(text) else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Invalid experiment ID '\(text)'. Experiment ID must be a valid integer."
            )
        }
        return id
    }

    static func notFound(_ text: String) -> MLflowHTTPError {
        MLflowHTTPError(.resourceDoesNotExist, "No Experiment with id=\(text) exists")
    }

    // MARK: By name

    /// The readable project an experiment name names, active or deleted, or `nil`: `Default`, then
    /// `<namespace>/<display name or slug>`, then a display name in the caller's default namespace.
    func named(_ name: String) async throws -> StoredProject? {
        if name == Self.defaultName {
            do {
                return try await defaultProject()
            } catch is MLflowHTTPError {
                return nil
            }
        }
        let parts = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2, !parts[0].isEmpty,
            let project = try await find(namespace: parts[0], displayName: parts[1], orSlug: true)
        {
            return project
        }
        return try await find(namespace: namespace, displayName: name, orSlug: false)
    }

    /// The readable project of `namespace` whose display name is `displayName` (or whose slug is, with
    /// `orSlug`).
    private func find(namespace: String, displayName: String, orSlug: Bool) async throws -> StoredProject? {
        var found: StoredProject?
        if let bySlug = try await api.store.project(namespace: namespace, slug: Project.slug(for: displayName)),
            bySlug.displayName == displayName
        {
            found = bySlug
        } else if orSlug, let bySlug = try await api.store.project(namespace: namespace, slug: displayName) {
            found = bySlug
        } else {
            // A renamed project keeps its slug: look through the namespace's projects.
            found = try await api.store.projects().first { $0.namespace == namespace && $0.displayName == displayName }
        }
        guard let found, AccessPolicy.allows(caller, .read, found) else { return nil }
        return found
    }

    /// Where a new experiment of this name goes: `a/b` in namespace `a` when the caller may create projects
    /// there, else the whole name in the caller's default namespace.
    func placement(_ name: String) -> (namespace: String, displayName: String) {
        let parts = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            AccessPolicy.mayCreateProject(caller, in: parts[0])
        {
            return (parts[0], parts[1])
        }
        return (namespace, name)
    }

    /// Whether a project of this display name (or its slug) exists in the namespace, active or deleted.
    func isTaken(namespace: String, displayName: String) async throws -> Bool {
        if namespace == self.namespace, displayName == Self.defaultName { return true }
        if try await api.store.project(namespace: namespace, slug: Project.slug(for: displayName)) != nil {
            return true
        }
        return try await api.store.projects().contains { $0.namespace == namespace && $0.displayName == displayName }
    }
}
