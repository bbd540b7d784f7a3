import Foundation
import Hummingbird
import QuillAPI
import QuillCore
import QuillStore

extension MLflowRoutes {
    /// `experiments/…`: get-by-name, create, get, search, delete, restore, update, set-experiment-tag,
    /// delete-experiment-tag. An experiment is a project (``MLflowExperimentResolver``).
    func registerExperiments(_ table: MLflowRouteTable) {
        table.add("experiments/create", .post) { request, context in try await createExperiment(request, context) }
        table.add("experiments/get", .get) { request, context in
            let query = try query(MLflowExperimentIDRequest.self, request)
            let id = try required(query.experimentID, "experiment_id")
            let resolver = experiments(context)
            let project = try await resolver.readable(id)
            return try JSONResponse.make(MLflowExperimentResponse(experiment: resolver.experiment(project)))
        }
        table.add("experiments/get-by-name", .get) { request, context in
            let query = try query(MLflowGetExperimentByName.self, request)
            let name = try required(query.experimentName, "experiment_name")
            let resolver = experiments(context)
            guard let project = try await resolver.named(name) else {
                throw MLflowHTTPError(.resourceDoesNotExist, "Could not find experiment with name '\(name)'")
            }
            return try JSONResponse.make(MLflowExperimentResponse(experiment: resolver.experiment(project)))
        }
        table.add("experiments/delete", .post) { request, context in
            let body = try await body(MLflowExperimentIDRequest.self, request)
            try await setExperimentDeleted(try required(body.experimentID, "experiment_id"), true, context)
            return try JSONResponse.make(MLflowEmpty())
        }
        table.add("experiments/restore", .post) { request, context in
            let body = try await body(MLflowExperimentIDRequest.self, request)
            try await setExperimentDeleted(try required(body.experimentID, "experiment_id"), false, context)
            return try JSONResponse.make(MLflowEmpty())
        }
        table.add("experiments/update", .post) { request, context in try await renameExperiment(request, context) }
        table.add("experiments/set-experiment-tag", .post) { request, context in
            let body = try await body(MLflowSetExperimentTag.self, request)
            let id = try required(body.experimentID, "experiment_id")
            let key = try required(body.key, "key")
            let value = body.value ?? ""
            try Self.checkExperimentTag(key, value)
            let project = try await activeExperiment(id, context)
            var update = ProjectUpdate()
            update.setTags = [key: value]
            _ = try await api.store.updateProject(project.id, update)
            return try JSONResponse.make(MLflowEmpty())
        }
        table.add("experiments/delete-experiment-tag", .post) { request, context in
            let body = try await body(MLflowDeleteExperimentTag.self, request)
            let id = try required(body.experimentID, "experiment_id")
            let key = try required(body.key, "key")
            let project = try await activeExperiment(id, context)
            guard project.tags[key] != nil, key != MLflowMapping.artifactLocationTag else {
                throw MLflowHTTPError(
                    .resourceDoesNotExist,
                    "No tag with name: \(key) in experiment with id \(id)"
                )
            }
            var update = ProjectUpdate()
            update.removedTags = [key]
            _ = try await api.store.updateProject(project.id, update)
            return try JSONResponse.make(MLflowEmpty())
        }
    }

    private func createExperiment(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        try api.authorization.requireWriter(context.caller)
        let body = try await body(MLflowCreateExperiment.self, request)
        let name = try required(body.name, "name")
        try MLflowMapping.checkLength(name, MLflowMapping.maxExperimentNameLength, "name")
        var tags: [String: String] = [:]
        for tag in body.tags ?? [] {
            try Self.checkExperimentTag(tag.key, tag.value)
            tags[tag.key] = tag.value
        }
        if let location = body.artifactLocation, !location.isEmpty {
            if location.hasPrefix("runs:") {
                throw MLflowHTTPError(
                    .invalidParameterValue,
                    "Artifact location cannot be a runs:/ URI. Given: '\(location)'"
                )
            }
            tags[MLflowMapping.artifactLocationTag] = location
        }
        let resolver = experiments(context)
        let place = resolver.placement(name)
        let taken = MLflowHTTPError(.resourceAlreadyExists, "Experiment(name=\(name)) already exists.")
        if try await resolver.isTaken(namespace: place.namespace, displayName: place.displayName) { throw taken }
        var project = try await api.authorization.createProject(
            in: place.namespace,
            displayName: place.displayName,
            context.caller
        )
        if !tags.isEmpty {
            var update = ProjectUpdate()
            update.setTags = tags
            project = try await api.store.updateProject(project.id, update)
        }
        return try JSONResponse.make(MLflowCreateExperimentResponse(experimentID: resolver.id(project)))
    }

    private func renameExperiment(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let body = try await body(MLflowUpdateExperiment.self, request)
        let id = try required(body.experimentID, "experiment_id")
        let newName = try required(body.newName, "new_name")
        try MLflowMapping.checkLength(newName, MLflowMapping.maxExperimentNameLength, "name")
        let resolver = experiments(context)
        let project = try await resolver.managed(id)
        guard project.deletedAt == nil else {
            throw MLflowHTTPError(.invalidState, "Cannot rename a non-active experiment.")
        }
        // A name is relative to the caller's namespace; a project stays in its namespace.
        var displayName = newName
        let prefix = project.namespace + "/"
        if project.namespace != resolver.namespace, newName.hasPrefix(prefix) {
            displayName = String(newName.dropFirst(prefix.count))
        }
        if displayName != project.displayName {
            let sameSlug = try await api.store.project(
                namespace: project.namespace,
                slug: Project.slug(for: displayName)
            )
            let sameName = try await api.store.projects().first {
                $0.namespace == project.namespace && $0.displayName == displayName
            }
            if [sameSlug, sameName].contains(where: { $0 != nil && $0?.id != project.id }) {
                throw MLflowHTTPError(.resourceAlreadyExists, "Experiment(name=\(newName)) already exists.")
            }
            var update = ProjectUpdate()
            update.displayName = displayName
            _ = try await api.store.updateProject(project.id, update)
        }
        return try JSONResponse.make(MLflowEmpty())
    }

    /// Moves an experiment to the trash or back, with its runs, as MLflow's SQL store does: deleting marks every
    /// active run deleted; restoring restores every deleted run of it.
    private func setExperimentDeleted(_ id: String, _ deleted: Bool, _ context: QuillRequestContext) async throws {
        let project = try await experiments(context).managed(id)
        guard (project.deletedAt != nil) != deleted else {
            throw MLflowExperimentResolver.notFound(id)
        }
        var update = ProjectUpdate()
        update.deleted = deleted
        _ = try await api.store.updateProject(project.id, update)
        var search = RunSearch(projectIDs: [project.id])
        search.lifecycle = deleted ? .active : .deleted
        search.limit = 1000
        var runs: [RunID] = []
        while true {
            let page = try await api.store.searchRuns(search)
            runs += page.runs.map(\.run.id)
            guard let cursor = page.nextCursor, !page.runs.isEmpty else { break }
            search.cursor = cursor
        }
        for run in runs {
            _ = try await api.store.setRunDeleted(run, deleted)
            api.runChanges.publish(run)
        }
    }

    /// The experiment `id`, when the caller may change it and it is active (MLflow refuses changes to a deleted
    /// experiment with `INVALID_PARAMETER_VALUE`).
    private func activeExperiment(_ id: String, _ context: QuillRequestContext) async throws -> StoredProject {
        let project = try await experiments(context).managed(id)
        guard project.deletedAt == nil else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "The experiment \(id) must be in the 'active' state. Current state is deleted."
            )
        }
        return project
    }

    /// MLflow's checks of an experiment tag: its key's characters, and the lengths of key and value.
    static func checkExperimentTag(_ key: String, _ value: String) throws {
        try MLflowMapping.checkName(key, path: "key")
        try MLflowMapping.checkLength(key, MLflowMapping.maxExperimentTagKeyLength, "key")
        try MLflowMapping.checkLength(value, MLflowMapping.maxExperimentTagValueLength, "value")
    }
}
