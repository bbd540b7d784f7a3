import Foundation
import Hummingbird
import QuillAPI
import QuillCore
import QuillStore

/// `/api/v1/stats`: totals over the projects the caller may read (runs by status, runs per UTC day for the
/// last `days` days, metric and artifact storage), for the dashboard's statistics page. Everyone gets the
/// totals of what they may read, so the numbers say nothing about other people's projects.
struct StatsRoutes {
    let api: APIContext

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.get { request, context in
            let days = try QueryParameters(request).int("days", in: 1...3660) ?? 90
            let projects = try await api.authorization.readableProjects(context.caller)
            let since = Date().addingTimeInterval(-Double(days - 1) * 86_400)
            // Days are UTC days, as the store counts them.
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC") ?? utc.timeZone
            let midnight = utc.dateInterval(of: .day, for: since)?.start ?? since
            let totals = try await api.activity.statistics(projectIDs: projects.map(\.id), since: midnight)
            return try JSONResponse.make(
                APIStats(
                    projects: totals.projects,
                    runsByStatus: Dictionary(
                        uniqueKeysWithValues: totals.runsByStatus.map { ($0.key.rawValue, $0.value) }
                    ),
                    runsPerDay: totals.runsPerDay.map { APIStats.Day(day: $0.day, runs: $0.runs) },
                    metricPoints: totals.metricPoints,
                    metricSeries: totals.metricSeries,
                    artifactFiles: totals.artifactFiles,
                    artifactBytes: totals.artifactBytes
                )
            )
        }
    }
}
