import Foundation
import QuillAPI
import QuillCore
import QuillStore

/// The store's values as the REST API's wire types (QuillAPI), which define every field once.
enum DTO {
    static func project(_ project: StoredProject) -> APIProject {
        APIProject(
            id: project.id,
            namespace: project.namespace,
            slug: project.slug,
            name: project.displayName,
            visibility: project.visibility.rawValue,
            createdAt: project.createdAt,
            path: "\(project.namespace)/\(project.slug)"
        )
    }

    static func run(_ run: StoredRun, dashboardURL: String? = nil) -> APIRun {
        APIRun(
            id: run.id.rawValue,
            projectID: run.projectID,
            name: run.name,
            description: run.description,
            kind: run.kind.label,
            status: run.status.rawValue,
            parent: run.parent?.rawValue,
            createdAt: run.createdAt,
            updatedAt: run.updatedAt,
            startedAt: run.startedAt,
            endedAt: run.endedAt,
            durationSeconds: run.endedAt.map { $0.timeIntervalSince(run.startedAt) },
            user: run.user,
            host: run.host,
            git: run.git,
            environment: run.environment,
            config: run.config,
            summary: run.summary,
            deletedAt: run.deletedAt,
            url: "/runs/\(run.id.rawValue)",
            dashboardURL: dashboardURL
        )
    }

    static func details(_ details: RunDetails, project: StoredProject?, dashboardURL: String? = nil) -> APIRunDetails {
        APIRunDetails(
            run: run(details.run, dashboardURL: dashboardURL),
            project: project?.displayName,
            projectPath: project.map { "\($0.namespace)/\($0.slug)" },
            params: details.params,
            tags: details.tags,
            links: details.links.map { APIRunLink(label: $0.label, url: $0.url, createdAt: $0.timestamp) },
            metrics: details.metrics.mapValues(statistics)
        )
    }

    static func statistics(_ stats: MetricStatistics) -> APIMetricStatistics {
        APIMetricStatistics(
            count: stats.count,
            latest: stats.last,
            latestStep: stats.lastStep,
            min: stats.min,
            max: stats.max
        )
    }

    static func user(_ user: StoredUser) -> APIUser {
        APIUser(name: user.name, isAdmin: user.isAdmin, createdAt: user.createdAt)
    }

    static func apiKey(_ key: StoredAPIKey, secret: String? = nil) -> APIKeyRecord {
        APIKeyRecord(
            id: key.id,
            user: key.user,
            label: key.label,
            prefix: key.prefix,
            createdAt: key.createdAt,
            revokedAt: key.revokedAt,
            key: secret
        )
    }

    static func logLine(_ line: LogLine) -> APILogLine {
        APILogLine(timestamp: line.timestamp, level: line.level?.rawValue, message: line.message)
    }
}
