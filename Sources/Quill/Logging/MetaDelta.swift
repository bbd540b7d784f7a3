import Foundation
import QuillCore

/// Changes to `meta.json` that a run has made since its writer last wrote the file.
///
/// The writer applies them onto the file as it is on disk, under the run's lock, so a `quill run` parent
/// and the program it runs can both change the same run without losing each other's updates.
struct MetaDelta: Sendable {
    var params: [String: JSONValue] = [:]
    var tags: [(key: String, value: String)] = []
    var summary: [String: JSONValue] = [:]
    var links: [RunLink] = []
    var status: (status: RunStatus, finishedAt: Date, error: String?, exitCode: Int32?, signal: Int32?)?
    var heartbeat = false

    var isEmpty: Bool {
        params.isEmpty && tags.isEmpty && summary.isEmpty && links.isEmpty && status == nil && !heartbeat
    }

    func apply(to meta: inout RunMeta, now: Date) {
        meta.params.merge(params) { _, new in new }
        for tag in tags { meta.setTag(tag.key, tag.value) }
        meta.summary.merge(summary) { _, new in new }
        for link in links where !meta.links.contains(where: { $0.label == link.label && $0.url == link.url }) {
            meta.links.append(link)
        }
        if let status {
            meta.status = status.status
            meta.finishedAt = status.finishedAt
            if let error = status.error { meta.error = error }
            if let code = status.exitCode { meta.exitCode = code }
            if let signal = status.signal { meta.signal = signal }
        }
        meta.updatedAt = now
        meta.heartbeatAt = now
    }
}
