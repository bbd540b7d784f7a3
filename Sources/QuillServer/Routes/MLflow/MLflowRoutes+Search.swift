import Foundation
import Hummingbird
import QuillAPI
import QuillCore
import QuillStore

extension MLflowRoutes {
    /// `runs/search` (POST) and `experiments/search` (POST, and GET with the query string): MLflow's filter
    /// grammar, `order_by`, page tokens and view types.
    func registerSearch(_ table: MLflowRouteTable) {
        table.add("runs/search", .post) { request, context in
            try await searchRuns(try await body(MLflowSearchRuns.self, request), context)
        }
        table.add("experiments/search", .post) { request, context in
            try await searchExperiments(try await body(MLflowSearchExperiments.self, request), context)
        }
        table.add("experiments/search", .get) { request, context in
            try await searchExperiments(try query(MLflowSearchExperiments.self, request, lists: ["order_by"]), context)
        }
    }

    // MARK: Experiments

    private func searchExperiments(
        _ request: MLflowSearchExperiments,
        _ context: QuillRequestContext
    ) async throws
        -> Response
    {
        let maxResults = try Self.maxResults(request.maxResults)
        let offset = try Self.offset(request.pageToken)
        let resolver = experiments(context)
        // MLflow's Default experiment exists from the start: make it before listing, when the caller may.
        _ = try? await resolver.defaultProject()
        let view = request.viewType ?? .activeOnly
        let projects = try await api.authorization.readableProjects(context.caller).filter { project in
            switch view {
            case .activeOnly: project.deletedAt == nil
            case .deletedOnly: project.deletedAt != nil
            case .all: true
            }
        }
        let found = try MLflowExperimentSearch.filter(
            projects.map(resolver.experiment),
            filter: request.filter,
            orderBy: request.orderBy ?? []
        )
        let page = Array(found.dropFirst(offset).prefix(maxResults))
        let end = offset + page.count
        return try JSONResponse.make(
            MLflowSearchExperimentsResponse(
                experiments: page.isEmpty ? nil : page,
                nextPageToken: end < found.count ? Self.offsetToken(end) : nil
            )
        )
    }

    // MARK: Runs

    private func searchRuns(_ request: MLflowSearchRuns, _ context: QuillRequestContext) async throws -> Response {
        let maxResults = try Self.maxResults(request.maxResults)
        let resolver = experiments(context)
        var projects: [Int64: StoredProject] = [:]
        for id in request.experimentIDs ?? [] {
            // MLflow's server searches the experiments it has: an unknown (or unreadable) one finds nothing.
            do {
                let project = try await resolver.readable(id)
                projects[project.id] = project
            } catch let error as MLflowHTTPError where error.code == .resourceDoesNotExist {
                continue
            }
        }
        let lifecycle: RunLifecycle
        switch request.runViewType ?? .activeOnly {
        case .activeOnly: lifecycle = .active
        case .deletedOnly: lifecycle = .deleted
        case .all: lifecycle = .all
        }
        let page = try await MLflowRunSearch(store: api.store).search(
            projectIDs: projects.keys.sorted(),
            filter: request.filter,
            orderBy: request.orderBy ?? [],
            maxResults: maxResults,
            pageToken: request.pageToken,
            lifecycle: lifecycle
        )
        let runs = page.runs.map { details in
            MLflowMapping.run(
                details,
                experimentID: projects[details.run.projectID].map(resolver.id) ?? String(details.run.projectID)
            )
        }
        return try JSONResponse.make(
            MLflowSearchRunsResponse(runs: runs.isEmpty ? nil : runs, nextPageToken: page.nextPageToken)
        )
    }

    // MARK: Pages

    /// `max_results` checked as MLflow checks it: 1 to 50,000, 1,000 when absent.
    static func maxResults(_ value: MLflowInt64?) throws -> Int {
        guard let value = value?.value else { return MLflowMapping.defaultMaxResults }
        guard value >= 1 else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Invalid value \(value) for parameter 'max_results' supplied. It must be a positive integer"
            )
        }
        guard value <= Int64(MLflowMapping.maxResultsLimit) else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Invalid value \(value) for parameter 'max_results' supplied. It must be at most \(MLflowMapping.maxResultsLimit)"
            )
        }
        return Int(value)
    }

    /// The offset an experiment page token holds (MLflow's: base64 of `{"offset": N}`), 0 without one.
    static func offset(_ token: String?) throws -> Int {
        guard let token, !token.isEmpty else { return 0 }
        guard let data = Data(base64Encoded: token),
            case .object(let object) = try? JSONParser.parse(Array(data)),
            let offset = object["offset"]?.intValue, offset >= 0
        else {
            throw MLflowHTTPError(.invalidParameterValue, "Invalid page token, could not base64-decode")
        }
        return offset
    }

    /// MLflow's page token for an offset.
    static func offsetToken(_ offset: Int) -> String {
        Data(#"{"offset": \#(offset)}"#.utf8).base64EncodedString()
    }
}
