import Foundation
import QuillAPI
import QuillCore
import QuillStore

/// How Quill's jobs, runs and devices look in whirr's API (see Docs/Whirr.md).
enum WhirrMapping {
    /// whirr's name for a job's run: `job-<id>`.
    static func runName(_ jobID: Int64) -> String { "job-\(jobID)" }

    /// The job id in a whirr run name (`job-12` → 12), or `nil`.
    static func jobID(runName: String) -> Int64? {
        guard runName.hasPrefix("job-") else { return nil }
        let digits = runName.dropFirst(4)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else { return nil }
        return Int64(digits)
    }

    /// A job's status as whirr writes it; `lost` (a moment between a lost attempt and the re-queue) is `queued`.
    static func status(_ status: JobStatus) -> String {
        status == .lost ? "queued" : status.rawValue
    }

    /// Time as whirr's server writes it: `2026-11-30T00:59:10Z` (whole seconds, UTC).
    static func time(_ date: Date?) -> String? {
        guard let date else { return nil }
        return date.formatted(.iso8601)
    }

    /// whirr's tag list as Quill tags: a word is a label tag, `key:value` (or `key=value`) a key-value tag.
    static func quillTags(_ tags: [String]?) -> [String: String] {
        var result: [String: String] = [:]
        for tag in tags ?? [] {
            if let separator = tag.firstIndex(where: { $0 == "=" || $0 == ":" }) {
                result[String(tag[..<separator])] = String(tag[tag.index(after: separator)...])
            } else {
                result[tag] = ""
            }
        }
        return result
    }

    /// Quill tags as whirr's list, sorted: a label tag as its key, a key-value tag as `key:value`; Quill's own
    /// `quill.*` tags are left out. `nil` when there are none, as whirr writes it.
    static func whirrTags(_ tags: [String: String]) -> [String]? {
        let list = tags.filter { !$0.key.hasPrefix("quill.") }.map {
            $0.value.isEmpty ? $0.key : "\($0.key):\($0.value)"
        }
        return list.isEmpty ? nil : list.sorted()
    }

    /// The tag that keeps what whirr's API was sent and Quill's types do not hold: the tag list in its order
    /// and whether a name was given, as JSON (`{"name":true,"tags":["b","a"]}`).
    static let submittedTag = "quill.whirr"

    /// The tags of a job submitted through whirr's API: the Quill tags plus ``submittedTag``.
    static func submittedTags(_ body: WhirrJobCreate) -> [String: String] {
        var tags = quillTags(body.tags)
        let record: JSONValue = [
            "name": .bool(body.name != nil),
            "tags": body.tags.map { .array($0.map(JSONValue.string)) } ?? .null,
        ]
        tags[submittedTag] = String(decoding: JSONWriter.bytes(record), as: UTF8.self)
        return tags
    }

    /// The name and tags whirr's API shows for a job: as submitted through whirr, else from the Quill job.
    static func nameAndTags(_ spec: NewJob) -> (name: String?, tags: [String]?) {
        guard let text = spec.tags[submittedTag], let record = try? JSONParser.parse(Array(text.utf8)) else {
            return (spec.name, whirrTags(spec.tags))
        }
        let tags = record["tags"]?.arrayValue?.compactMap(\.stringValue)
        return (record["name"]?.boolValue == false ? nil : spec.name, tags)
    }

    /// A job as whirr's `JobResponse`.
    static func job(_ job: Job) -> WhirrJob {
        let last = job.attempts.last
        let attempt: Int
        switch job.status {
        case .queued, .lost: attempt = (job.attempts.last?.number ?? 0) + 1
        default: attempt = max(last?.number ?? 1, 1)
        }
        let exitCode = job.exitCode ?? job.signal.map { -$0 }
        let shown = nameAndTags(job.spec)
        return WhirrJob(
            id: job.id,
            name: shown.name,
            commandArgv: job.spec.argv,
            workdir: job.spec.workdir ?? "",
            config: job.spec.config.isEmpty ? nil : job.spec.config,
            tags: shown.tags,
            status: status(job.status),
            attempt: attempt,
            workerID: job.status == .queued || job.status == .lost ? nil : last?.worker,
            createdAt: time(job.createdAt),
            startedAt: job.status == .queued ? nil : time(job.startedAt),
            finishedAt: time(job.endedAt),
            exitCode: exitCode,
            runID: job.status.isTerminal && !job.attempts.isEmpty ? runName(job.id) : nil
        )
    }

    /// A device as whirr's `WorkerResponse`.
    static func worker(_ device: Device) -> WhirrWorker {
        let status: String
        switch device.status {
        case .online: status = "idle"
        case .busy: status = "busy"
        case .offline: status = "offline"
        }
        return WhirrWorker(
            id: device.spec.name,
            hostname: device.spec.host,
            gpuID: device.spec.gpus.count == 1 ? device.spec.gpus[0].index : nil,
            status: status,
            currentJobID: device.runningJobs.first,
            heartbeatAt: time(device.lastSeen)
        )
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
