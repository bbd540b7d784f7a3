import Foundation
import QuillAPI
import QuillCore

/// How the job commands print jobs.
enum JobOutput {
    /// One line per job: id, status, name, attempts, worker, run, age.
    static func table(_ jobs: [APIJob]) -> String {
        var table = Table(
            headers: ["ID", "STATUS", "NAME", "ATTEMPTS", "WORKER", "RUN", "SUBMITTED"],
            rightAligned: [0]
        )
        for job in jobs {
            table.append([
                String(job.id), status(job), job.name, "\(job.attempts.count)/\(job.maxAttempts)",
                job.attempts.last?.worker ?? "", job.runID, Formatting.time(job.createdAt),
            ])
        }
        return table.render()
    }

    /// A job's status, with its exit code or signal when it ended.
    static func status(_ job: APIJob) -> String {
        if job.cancelRequested { return "\(job.status) (cancelling)" }
        if let code = job.exitCode, code != 0 { return "\(job.status) (exit \(code))" }
        if let signal = job.signal { return "\(job.status) (signal \(signal))" }
        return job.status
    }

    /// Every field of one job and its attempts.
    static func details(_ job: APIJob) -> String {
        var list = KeyValueList()
        list.append("id", String(job.id))
        list.append("name", job.name)
        list.append("status", status(job))
        if let reason = job.reason { list.append("reason", reason) }
        list.append("run", job.runID)
        list.append("command", job.argv.joined(separator: " "))
        if let workdir = job.workdir { list.append("workdir", workdir) }
        for (key, value) in job.env.sorted(by: { $0.key < $1.key }) { list.append("env", "\(key)=\(value)") }
        var resources: [String] = []
        if job.gpus > 0 { resources.append("\(job.gpus) GPU(s)") }
        if let device = job.device { resources.append("device \(device)") }
        if !job.labels.isEmpty { resources.append("labels \(job.labels.joined(separator: ","))") }
        if !resources.isEmpty { list.append("needs", resources.joined(separator: ", ")) }
        list.append("priority", String(job.priority))
        if let timeout = job.timeoutSeconds { list.append("timeout", Formatting.duration(timeout)) }
        list.append("submitted", Formatting.time(job.createdAt))
        if let started = job.startedAt { list.append("started", Formatting.time(started)) }
        if let ended = job.endedAt { list.append("ended", Formatting.time(ended)) }
        if let slurm = job.attempts.last(where: { $0.slurmJobID != nil })?.slurmJobID {
            list.append("slurm job", slurm)
        }
        var text = list.render()
        if !job.attempts.isEmpty {
            // A SLURM column only for a job on SLURM: each attempt is a SLURM job of its own.
            let onSlurm = job.attempts.contains { $0.slurmJobID != nil }
            var table = Table(
                headers: ["ATTEMPT", "WORKER"] + (onSlurm ? ["SLURM JOB"] : []) + [
                    "GPUS", "STARTED", "ENDED", "OUTCOME",
                ],
                rightAligned: [0]
            )
            for attempt in job.attempts {
                var outcome = attempt.outcome ?? "running"
                if let code = attempt.exitCode { outcome += " (exit \(code))" }
                if let signal = attempt.signal { outcome += " (signal \(signal))" }
                if let reason = attempt.reason { outcome += ": \(reason)" }
                table.append(
                    [String(attempt.number), attempt.worker] + (onSlurm ? [attempt.slurmJobID ?? ""] : []) + [
                        attempt.gpus.map(String.init).joined(separator: ","),
                        Formatting.time(attempt.startedAt), Formatting.time(attempt.endedAt), outcome,
                    ]
                )
            }
            text += "\n\n" + table.render()
        }
        return text
    }

    /// A duration option as a `Duration`, at most about 300 years (so any text converts without overflow).
    static func duration(_ text: String) -> Duration? {
        seconds(text).map { .milliseconds(Int64((min($0, 1e13) * 1000).rounded())) }
    }

    /// A duration as the job options take it: `90`, `90s`, `15m`, `2h`, `1d`.
    static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()), value > 0 {
            return value * factor
        }
        if let value = Double(text), value > 0 { return value }
        return nil
    }
}
