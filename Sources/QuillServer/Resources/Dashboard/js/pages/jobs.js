// Jobs: the queue in the order workers take it, running jobs with their device, attempt, elapsed time and
// their last line of output, finished jobs with exit, reason and attempts; filters by status (in the URL),
// and Cancel and Retry for who may use them (`GET /jobs/access`; the API decides again). The page reads the
// API again every second or so while something changes and less often while nothing does (jobs-model.js's
// nextDelay); each running job's full output follows live on its own page (/jobs/<id>).

import { ApiError, get } from "../api.js";
import { navigate, setState } from "../app.js";
import { VirtualTable } from "../components/virtual-table.js";
import { ago, badge, h, markDrawn, message, when } from "../dom.js";
import {
    FINISHED, JOB_STATUSES, attemptText, changeKey, currentAttempt, elapsedSeconds, exitText, formatElapsed,
    nextDelay, parseStatuses, partition, requirementsText,
} from "../jobs-model.js";
import { jobButtons, projectNames, readAccess } from "./job-actions.js";
import { urls } from "../url.js";

/** Queued jobs the list shows: the head of the queue, the ones workers take next. */
const QUEUE_JOBS = 500;
/** Running jobs whose last output line the list shows (one small read each). */
const TAIL_JOBS = 20;

/**
 * Runs `redraw` (which replaces a table's rows) and gives the focus back to the same control of the same row
 * when it was in the table, so a poll never throws a keyboard user out of the list.
 */
function keepFocus(table, redraw) {
    const focused = document.activeElement;
    const row = focused && focused !== table.table && table.body.contains(focused) ? focused.closest("tr")?.dataset.key : null;
    const kind = row ? (focused.matches("button") ? `button.${focused.classList[0]}` : focused.tagName.toLowerCase()) : null;
    redraw();
    if (row) table.body.querySelector(`tr[data-key="${CSS.escape(row)}"] ${kind}`)?.focus();
}

export async function render(main, _params, query) {
    const state = { statuses: parseStatuses(query.get("status")) };
    const shown = (status) => state.statuses.length === 0 || state.statuses.includes(status);
    const controller = new AbortController();
    let access = await readAccess();
    let projects = await projectNames();
    let jobs = [];
    let counts = {};
    const lastLines = new Map();

    const errorLine = h("p", { class: "error", role: "alert", "aria-live": "assertive" });
    const refused = (text) => {
        errorLine.textContent = text;
    };
    const buttons = (job) => jobButtons(job, access, { onDone: () => poll(true), onError: refused });
    const jobLink = (j) => h("a", { href: urls.job(j.id) }, `${j.id} ${j.name}`);
    const project = (j) => {
        const p = projects.get(j.project_id);
        return p ? h("a", { href: urls.project(p.namespace, p.slug) }, p.name) : String(j.project_id);
    };
    const runLink = (j) => h("a", { href: urls.runByID(j.run_id), "aria-label": `run of job ${j.id}` }, "run");
    const since = (text) => h("span", { dataset: { since: text ?? "" }, title: when(text) }, formatElapsed(elapsedSeconds(text, null)));

    const sections = {
        queued: {
            title: "Queued", statuses: ["queued", "lost"], empty: "No job waits in the queue.",
            columns: [
                { key: "position", title: "#", width: 44, numeric: true, cell: (j) => String(j.position) },
                { key: "job", title: "Job", width: 220, cell: jobLink },
                { key: "status", title: "Status", width: 90, cell: (j) => badge(j.status) },
                { key: "priority", title: "Priority", width: 70, numeric: true, cell: (j) => String(j.priority) },
                { key: "project", title: "Project", width: 130, cell: project },
                { key: "needs", title: "Needs", width: 160, cell: (j) => requirementsText(j) },
                { key: "waiting", title: "Waiting", width: 90, cell: (j) => since(j.created_at) },
                { key: "by", title: "By", width: 90, cell: (j) => j.submitted_by ?? "" },
                { key: "run", title: "Run", width: 60, cell: runLink },
                { key: "actions", title: "Actions", width: 90, cell: buttons },
            ],
        },
        running: {
            title: "Running", statuses: ["running"], empty: "No job runs now.",
            columns: [
                { key: "job", title: "Job", width: 200, cell: jobLink },
                { key: "device", title: "Device", width: 120, cell: (j) => currentAttempt(j)?.worker ?? "—" },
                { key: "attempt", title: "Attempt", width: 76, numeric: true, cell: (j) => `${currentAttempt(j)?.number ?? j.attempts_used} of ${j.max_attempts}` },
                { key: "elapsed", title: "Elapsed", width: 86, numeric: true, cell: (j) => since(j.started_at) },
                { key: "output", title: "Last output", width: 320, cell: (j) => h("span", { class: "mono", dataset: { output: j.id } }, lastLines.get(j.id) ?? "") },
                { key: "run", title: "Run", width: 80, cell: runLink },
                { key: "actions", title: "Actions", width: 90, cell: buttons },
            ],
        },
        finished: {
            title: "Finished", statuses: FINISHED, empty: "No job has finished.",
            columns: [
                { key: "status", title: "Status", width: 96, cell: (j) => badge(j.status) },
                { key: "job", title: "Job", width: 200, cell: jobLink },
                { key: "exit", title: "Exit", width: 156, cell: (j) => exitText(j) },
                { key: "reason", title: "Reason", width: 220, cell: (j) => h("span", { title: j.reason ?? "" }, j.reason ?? "") },
                { key: "attempts", title: "Attempts", width: 260, cell: (j) => {
                    const text = (j.attempts ?? []).map(attemptText).join(" · ") || "none";
                    const times = (j.attempts ?? []).map((a) => `${attemptText(a)}: ${when(a.started_at)} to ${when(a.ended_at)}`).join("\n");
                    return h("span", { title: times || text }, text);
                } },
                { key: "ended", title: "Ended", width: 86, cell: (j) => h("span", { title: when(j.ended_at) }, ago(j.ended_at)) },
                { key: "duration", title: "Took", width: 76, numeric: true, cell: (j) => formatElapsed(elapsedSeconds(j.started_at, j.ended_at)) },
                { key: "run", title: "Run", width: 60, cell: runLink },
                { key: "actions", title: "Actions", width: 90, cell: buttons },
            ],
        },
    };
    for (const [name, section] of Object.entries(sections)) {
        section.table = new VirtualTable({
            label: `${section.title} jobs`, columns: section.columns,
            // Keyboard: Enter opens the active job.
            onOpen: (j) => navigate(urls.job(j.id)),
        });
        section.table.element.classList.add("compact");
        section.table.element.dataset.section = name;
        section.heading = h("h2", { id: `jobs-${name}` }, section.title);
        section.emptyLine = message(section.empty);
        section.element = h("section", { "aria-labelledby": `jobs-${name}` }, section.heading, section.emptyLine, section.table.element);
    }

    const status = h("p", { class: "muted", "aria-live": "polite" });
    const form = h("form", { class: "row filters job-filters", role: "search", "aria-label": "Filter jobs by status" },
        h("fieldset", {}, h("legend", {}, "status"), JOB_STATUSES.map((s) => h("label", {},
            h("input", { type: "checkbox", name: "status", value: s, checked: state.statuses.includes(s) }), ` ${s}`))));
    form.addEventListener("change", () => {
        state.statuses = [...form.querySelectorAll("input:checked")].map((i) => i.value);
        setState({ status: state.statuses });
        draw(true);
    });
    form.addEventListener("submit", (event) => event.preventDefault());
    const none = message("No jobs yet: queue one with `quill submit -- COMMAND ARGS…` (see `quill submit --help`).");

    let drawn = "";
    function draw(force = false) {
        const key = changeKey(jobs, lastLines) + JSON.stringify(access) + state.statuses.join(",");
        const parts = partition(jobs);
        parts.queued.forEach((j, i) => {
            j.position = i + 1;
        });
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        status.textContent = total === 0 ? "" : JOB_STATUSES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(", ");
        none.hidden = total !== 0;
        for (const [name, section] of Object.entries(sections)) {
            const rows = parts[name].filter((j) => shown(j.status)).map((j) => ({ ...j, key: String(j.id) }));
            const visible = total !== 0 && section.statuses.some(shown);
            section.element.hidden = !visible;
            const count = Math.max(rows.length, section.statuses.reduce((n, s) => n + (shown(s) ? counts[s] ?? 0 : 0), 0));
            section.heading.textContent = rows.length < count ? `${section.title} (${rows.length} of ${count} shown)` : `${section.title} (${count})`;
            section.emptyLine.hidden = rows.length !== 0;
            section.table.element.hidden = rows.length === 0;
            if (force || key !== drawn) keepFocus(section.table, () => section.table.setRows(rows));
        }
        drawn = key;
    }

    // Reading: the head of the queue in claim order (order=queue), the running jobs (up to the API's page of
    // 1,000), the last 200 finished; the headings say how many of each there are in all.
    async function read() {
        const list = async (statuses, limit, order) => {
            const q = new URLSearchParams(statuses.map((s) => ["status", s]));
            q.set("limit", String(limit));
            if (order) q.set("order", order);
            return get(`/jobs?${q}`, undefined, { signal: controller.signal });
        };
        const [waiting, running, finished] = await Promise.all([
            list(["queued", "lost"], QUEUE_JOBS, "queue"), list(["running"], 1000), list(["completed", "failed", "cancelled"], 200),
        ]);
        counts = finished.counts ?? {};
        jobs = [...waiting.jobs, ...running.jobs, ...finished.jobs];
        await Promise.all(running.jobs.slice(0, TAIL_JOBS).map(async (j) => {
            try {
                const page = await get(`/runs/${encodeURIComponent(j.run_id)}/logs`, { tail: 1, limit: 1 }, { signal: controller.signal });
                const line = page.logs[page.logs.length - 1]?.message;
                if (line !== undefined) lastLines.set(j.id, line);
            } catch (error) {
                if (error.name === "AbortError") throw error;
            }
        }));
    }

    let timer = 0;
    let delay = null;
    let previous = "";
    // One read at a time: a read asked for while one runs (a button's action) runs right after it, so an
    // older answer never replaces a newer one.
    let busy = false;
    let again = false;
    async function poll(now = false) {
        clearTimeout(timer);
        if (busy) {
            again = true;
            return;
        }
        busy = true;
        if (now) delay = null;
        let failed = false;
        try {
            if (document.visibilityState !== "hidden" || now) {
                await read();
                draw();
            }
        } catch (error) {
            if (error.name === "AbortError") return;
            failed = true;
            status.textContent = `${error.message} (retrying)`;
        } finally {
            busy = false;
        }
        if (controller.signal.aborted) return;
        if (again) {
            again = false;
            poll(true);
            return;
        }
        const key = changeKey(jobs, lastLines);
        delay = nextDelay(delay, { changed: key !== previous, failed });
        previous = key;
        timer = setTimeout(() => poll(), delay);
    }

    // Elapsed times tick without reading the API.
    const ticker = setInterval(() => {
        for (const span of main.querySelectorAll("[data-since]")) {
            if (span.dataset.since) span.textContent = formatElapsed(elapsedSeconds(span.dataset.since, null));
        }
    }, 1000);
    const onSession = async () => {
        access = await readAccess();
        projects = await projectNames();
        draw(true);
    };
    window.addEventListener("quill:session", onSession);

    main.replaceChildren(h("h1", {}, "Jobs"), form, status, errorLine, none,
        sections.queued.element, sections.running.element, sections.finished.element);
    try {
        await read();
    } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
            main.replaceChildren(h("h1", {}, "Jobs"), message(`${error.message}`, "error"), h("a", { href: urls.signin(location.pathname) }, "Sign in"));
            return () => clearInterval(ticker);
        }
        throw error;
    }
    draw(true);
    previous = changeKey(jobs, lastLines);
    markDrawn("quill:jobs-drawn", { count: jobs.length });
    delay = nextDelay(null, { changed: true });
    timer = setTimeout(() => poll(), delay);
    return () => {
        controller.abort();
        clearTimeout(timer);
        clearInterval(ticker);
        window.removeEventListener("quill:session", onSession);
        for (const section of Object.values(sections)) section.table.destroy();
    };
}
