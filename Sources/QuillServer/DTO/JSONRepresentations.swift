import Foundation
import QuillCore
import QuillStore

/// How the REST API writes the store's values as JSON.
enum DTO {
    static func time(_ date: Date?) -> JSONValue {
        date.map { .string(Timestamp.string($0)) } ?? .null
    }

    static func project(_ project: StoredProject) -> JSONValue {
        [
            "id": .int(Int(project.id)), "namespace": .string(project.namespace), "slug": .string(project.slug),
            "name": .string(project.displayName), "visibility": .string(project.visibility.rawValue),
            "created_at": time(project.createdAt), "path": .string("\(project.namespace)/\(project.slug)"),
        ]
    }

    static func run(_ run: StoredRun) -> JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(run.id.rawValue), "project_id": .int(Int(run.projectID)), "name": .string(run.name),
            "kind": .string(run.kind.label), "status": .string(run.status.rawValue), "created_at": time(run.createdAt),
            "updated_at": time(run.updatedAt), "started_at": time(run.startedAt), "ended_at": time(run.endedAt),
            "config": .object(run.config), "summary": .object(run.summary), "url": .string("/runs/\(run.id.rawValue)"),
        ]
        members["description"] = run.description.map(JSONValue.string) ?? .null
        members["parent"] = run.parent.map { .string($0.rawValue) } ?? .null
        members["user"] = run.user.map(JSONValue.string) ?? .null
        members["host"] = run.host.map(JSONValue.string) ?? .null
        members["git"] = run.git ?? .null
        members["environment"] = run.environment ?? .null
        members["duration_seconds"] = run.endedAt.map { .double($0.timeIntervalSince(run.startedAt)) } ?? .null
        return .object(members)
    }

    static func details(_ details: RunDetails, project: StoredProject?) -> JSONValue {
        var members = run(details.run).objectValue ?? [:]
        if let project {
            members["project"] = .string(project.displayName)
            members["project_path"] = .string("\(project.namespace)/\(project.slug)")
        }
        members["params"] = .object(details.params)
        members["tags"] = .object(details.tags.mapValues(JSONValue.string))
        members["links"] = .array(
            details.links.map {
                ["label": .string($0.label), "url": .string($0.url), "created_at": time($0.timestamp)]
            }
        )
        members["metrics"] = .object(details.metrics.mapValues(statistics))
        return .object(members)
    }

    static func statistics(_ stats: MetricStatistics) -> JSONValue {
        [
            "count": .int(stats.count), "latest": .double(stats.last),
            "latest_step": stats.lastStep.map(JSONValue.int) ?? .null,
            "min": .double(stats.min), "max": .double(stats.max),
        ]
    }

    static func user(_ user: StoredUser) -> JSONValue {
        ["name": .string(user.name), "is_admin": .bool(user.isAdmin), "created_at": time(user.createdAt)]
    }

    static func apiKey(_ key: StoredAPIKey) -> JSONValue {
        [
            "id": .int(Int(key.id)), "user": .string(key.user), "label": .string(key.label),
            "prefix": .string(key.prefix), "created_at": time(key.createdAt), "revoked_at": time(key.revokedAt),
        ]
    }

    static func logLine(_ line: LogLine) -> JSONValue {
        [
            "timestamp": time(line.timestamp), "level": line.level.map { .string($0.rawValue) } ?? .null,
            "message": .string(line.message),
        ]
    }
}
