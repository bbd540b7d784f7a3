import Foundation
import Hummingbird
import QuillCore
import QuillSteps

/// `/api/v1/steps`: the cached step results under the server's steps root (`quill serve --steps-root`),
/// for the dashboard's step pages and for scripts: the same listing, filters and details as `quill steps`.
///
/// Step results are files on the server's machine, not records of a project, so they have no owner: any
/// signed-in user may read them (everyone in single-user mode); an anonymous caller of a server with users
/// is asked for a key.
struct StepRoutes {
    let api: APIContext

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.get { request, context in try list(request, context) }
        group.get("graph") { _, context in try graph(context) }
        group.get(":namespace/:hash") { request, context in try details(request, context) }
    }

    private func catalog(_ caller: Caller) throws -> StepCatalog {
        try api.authorization.readSteps(caller)
        return StepCatalog(root: api.configuration.stepsRoot)
    }

    private func list(_ request: Request, _ context: QuillRequestContext) throws -> Response {
        let catalog = try catalog(context.caller)
        let parameters = QueryParameters(request)
        var filter = StepFilter()
        filter.statuses = try Set(parameters.all("status").map { try Self.status($0, "status") })
        filter.attemptStatuses = try Set(
            parameters.all("attempt_status").map { try Self.status($0, "attempt_status") }
        )
        filter.namespaces = try parameters.all("namespace")
        filter.namespacePrefix = try parameters.string("namespace_prefix")
        filter.host = try parameters.string("host")
        filter.user = try parameters.string("user")
        filter.since = try parameters.string("since").map { try Self.time($0, "since") }
        filter.before = try parameters.string("before").map { try Self.time($0, "before") }
        filter.config = try parameters.all("config").map(StepConfigCondition.init(parsing:))
        let all = catalog.entries()
        let entries = all.filter(filter.matches)
        var counts: [String: JSONValue] = [:]
        for status in StepResultStatus.allCases { counts[status.rawValue] = .int(0) }
        var bytes = 0
        for entry in entries {
            counts[entry.status.rawValue] = .int((counts[entry.status.rawValue]?.intValue ?? 0) + 1)
            bytes += Int(entry.sizeBytes)
        }
        return JSONResponse.make([
            "steps": .array(entries.map(Self.publicJSON)),
            "summary": [
                "count": .int(entries.count), "total": .int(all.count), "by_status": .object(counts),
                "size_bytes": .int(bytes),
            ],
        ])
    }

    private func details(_ request: Request, _ context: QuillRequestContext) throws -> Response {
        let catalog = try catalog(context.caller)
        let namespace = try context.parameters.require("namespace")
        let hash = try context.parameters.require("hash")
        let logLines = try QueryParameters(request).int("log_lines", in: 0...10_000) ?? 200
        let all = catalog.entries()
        let entry = try catalog.resolve("\(namespace)/\(hash)", in: all)
        var json = entry.detailJSON(graph: StepGraph(all), logLines: logLines).objectValue ?? [:]
        json.removeValue(forKey: "dir")
        return JSONResponse.make(.object(json))
    }

    private func graph(_ context: QuillRequestContext) throws -> Response {
        let entries = try catalog(context.caller).entries()
        let graph = StepGraph(entries)
        let known = Set(entries.map(\.reference))
        var edges: [JSONValue] = []
        for entry in entries {
            for dependency in graph.dependencies(of: entry.reference) where known.contains(dependency) {
                edges.append(["from": .string(entry.reference.description), "to": .string(dependency.description)])
            }
        }
        return JSONResponse.make([
            "nodes": .array(
                entries.map {
                    [
                        "id": .string($0.reference.description), "namespace": .string($0.namespace),
                        "hash": .string($0.hash), "type": .string($0.typeName), "status": .string($0.status.rawValue),
                    ]
                }
            ),
            "edges": .array(edges),
        ])
    }

    /// A listing entry without the server's file path (`dir`), which says nothing a client can use.
    private static func publicJSON(_ entry: StepCatalogEntry) -> JSONValue {
        var json = entry.json.objectValue ?? [:]
        json.removeValue(forKey: "dir")
        json["attempt_status"] = entry.info.state.attempts.last.map { .string($0.status.rawValue) } ?? .null
        json["last_activity"] = entry.lastActivity.map { .string(Timestamp.string($0)) } ?? .null
        return .object(json)
    }

    /// A status of `Status` named by `text` (in any case), or a 400 that lists the statuses.
    private static func status<Status: RawRepresentable & CaseIterable>(_ text: String, _ name: String) throws -> Status
    where Status.RawValue == String {
        guard let status = Status(rawValue: text.lowercased()) else {
            throw QuillError(
                .invalidArgument,
                "\(name) must be one of \(Status.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return status
    }

    private static func time(_ text: String, _ name: String) throws -> Date {
        guard let date = StepCatalog.parseTime(text) else {
            throw QuillError(
                .invalidArgument,
                "\(name) must be a date (2026-11-24), a date-time (2026-11-24T10:00:00Z) or an age (7d, 12h)"
            )
        }
        return date
    }
}
