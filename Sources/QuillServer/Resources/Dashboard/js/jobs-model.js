// Jobs and devices as the jobs and devices pages show them (no DOM, no network, so `node --test` can check
// it): the queue in the order workers take it, running and finished jobs, which buttons a caller gets, how an
// exit, an attempt, a command and a device's resources read, and how often the pages read the API again.

/** Every job status, in the order the pages list them. */
export const JOB_STATUSES = ["queued", "running", "completed", "failed", "cancelled", "lost"];
/** Statuses a job ends in (retry takes these). */
export const FINISHED = ["completed", "failed", "cancelled"];

/** The statuses of a `status` URL parameter (`failed,cancelled`), known ones only, in list order. */
export function parseStatuses(text) {
    const wanted = new Set(String(text ?? "").split(",").map((s) => s.trim()).filter(Boolean));
    return JOB_STATUSES.filter((s) => wanted.has(s));
}

/** The queue's order, as workers claim: higher priority first, then the oldest (lowest id). */
export function queueOrder(a, b) {
    return (b.priority ?? 0) - (a.priority ?? 0) || a.id - b.id;
}

/** Finished jobs, the most recently ended first. */
export function finishedOrder(a, b) {
    return (Date.parse(b.ended_at ?? b.created_at) || 0) - (Date.parse(a.ended_at ?? a.created_at) || 0) || b.id - a.id;
}

/**
 * Jobs split the way the jobs page shows them: `queued` (with `lost`, which is on its way back to the queue)
 * in queue order, `running` oldest start first, `finished` newest end first. A job listed twice (two pages of
 * the API read at different moments) is kept once, the copy with more attempts.
 */
export function partition(jobs) {
    const byID = new Map();
    for (const job of jobs) {
        const seen = byID.get(job.id);
        if (!seen || (job.attempts?.length ?? 0) >= (seen.attempts?.length ?? 0)) byID.set(job.id, job);
    }
    const queued = [];
    const running = [];
    const finished = [];
    for (const job of byID.values()) {
        if (job.status === "running") running.push(job);
        else if (FINISHED.includes(job.status)) finished.push(job);
        else queued.push(job);
    }
    queued.sort(queueOrder);
    running.sort((a, b) => (Date.parse(a.started_at) || 0) - (Date.parse(b.started_at) || 0) || a.id - b.id);
    finished.sort(finishedOrder);
    return { queued, running, finished };
}

/** The attempt a running job is in (the last one, not ended), or `null`. */
export function currentAttempt(job) {
    const last = job.attempts?.[job.attempts.length - 1];
    return last && !last.ended_at ? last : null;
}

const SIGNALS = { 1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM" };

/** How a job or an attempt exited: `exit 0`, `signal 9 (SIGKILL)`, or an em dash when it has not. */
export function exitText(result) {
    if (result?.signal !== null && result?.signal !== undefined) {
        const name = SIGNALS[result.signal];
        return `signal ${result.signal}${name ? ` (${name})` : ""}`;
    }
    if (result?.exit_code !== null && result?.exit_code !== undefined) return `exit ${result.exit_code}`;
    return "—";
}

/** Seconds from `start` to `end` (or to `now` while it runs), or `null` without a start. */
export function elapsedSeconds(start, end, now = Date.now()) {
    const from = Date.parse(start ?? "");
    if (!Number.isFinite(from)) return null;
    const to = end ? Date.parse(end) : now;
    return Number.isFinite(to) ? Math.max(0, (to - from) / 1000) : null;
}

/** An elapsed time as 4s, 2m 05s, 1h 02m, 3d 4h. */
export function formatElapsed(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
    const s = Math.floor(seconds);
    const pad = (n) => String(n).padStart(2, "0");
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
    return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** One attempt as a line: `#2 gpu-box lost`, `#3 gpu-box running`. */
export function attemptText(attempt) {
    return `#${attempt.number} ${attempt.worker} ${attempt.outcome ?? "running"}`;
}

/**
 * The buttons a caller gets for a job, given `GET /jobs/access` (`null` when it could not be read: none).
 * Cancel: a job not ended yet whose cancel is not already waiting for its worker. Retry: an ended job.
 */
export function actions(job, access) {
    const may = Boolean(access) && (access.all_projects || (access.project_ids ?? []).includes(job.project_id));
    return {
        cancel: may && ["queued", "running", "lost"].includes(job.status) && !job.cancel_requested,
        retry: may && FINISHED.includes(job.status),
    };
}

/** A command line for reading: arguments with spaces or shell characters in single quotes. */
export function commandText(argv) {
    return (argv ?? []).map((a) => (a !== "" && /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(" ");
}

/** What a job asks of a worker: `2 GPUs, device gpu-box, labels a100, fast`, or an em dash. */
export function requirementsText(job) {
    const parts = [];
    if (job.gpus) parts.push(`${job.gpus} GPU${job.gpus === 1 ? "" : "s"}`);
    if (job.device) parts.push(`device ${job.device}`);
    if (job.labels?.length) parts.push(`label${job.labels.length === 1 ? "" : "s"} ${job.labels.join(", ")}`);
    return parts.length ? parts.join(", ") : "—";
}

/**
 * What the page needs to notice that the jobs changed (status, attempts, cancel waiting, last output): equal
 * keys mean nothing to draw again.
 */
export function changeKey(jobs, lastLines = new Map()) {
    return jobs.map((j) => `${j.id}:${j.status}:${j.attempts?.length ?? 0}:${j.cancel_requested ? 1 : 0}:${j.ended_at ?? ""}:${lastLines.get(j.id) ?? ""}`).join("|");
}

/**
 * The wait before the next read of a polled page: back to `min` after a change, longer by `factor` (up to
 * `max`) while nothing changes, and at least `errorMin` after a failed read.
 */
export function nextDelay(current, { changed = false, failed = false, min = 1000, max = 10000, factor = 1.5, errorMin = 5000, errorMax = 30000 } = {}) {
    if (failed) return Math.min(errorMax, Math.max(errorMin, (current ?? min) * 2));
    if (changed || current === null || current === undefined) return min;
    return Math.min(max, Math.max(min, current * factor));
}

/** Devices as the page lists them: busy, then online, then offline, each by name. */
export function deviceOrder(a, b) {
    const rank = { busy: 0, online: 1, offline: 2 };
    return (rank[a.status] ?? 3) - (rank[b.status] ?? 3) || a.name.localeCompare(b.name);
}

/** A device's GPUs: `2 × A100 (80 GiB)` when alike, else each by index; `none` without. */
export function gpusText(gpus, bytes) {
    if (!gpus?.length) return "none";
    const label = (g) => [g.name ?? "GPU", g.memory_bytes ? `(${bytes(g.memory_bytes)})` : null].filter(Boolean).join(" ");
    const labels = gpus.map(label);
    if (new Set(labels).size === 1) return `${gpus.length} × ${labels[0]}`;
    return gpus.map((g, i) => `${g.index}: ${labels[i]}`).join(", ");
}

/** A device's slots in use: `1 of 2`. */
export function slotsText(device) {
    return `${device.running_jobs?.length ?? 0} of ${device.slots}`;
}
