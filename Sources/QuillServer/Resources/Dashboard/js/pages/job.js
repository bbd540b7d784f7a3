// A job: what it runs and needs, its status, exit and reason, every attempt (worker, GPUs, start, end,
// outcome), Cancel and Retry for who may use them, and its output, which is its run's log. While the job runs
// the output follows the run's event stream (/runs/{id}/events, `logs` events) and the page reads the job
// again every two seconds; when the stream cannot be had the log is read with it instead.

import { ApiError, get } from "../api.js";
import { follow } from "../live.js";
import { oneAtATime } from "../live-model.js";
import { logView } from "../components/log-view.js";
import { badge, h, message, when } from "../dom.js";
import { commandText, elapsedSeconds, exitText, formatElapsed, requirementsText } from "../jobs-model.js";
import { jobButtons, projectNames, readAccess } from "./job-actions.js";
import { urls } from "../url.js";

const REFRESH_MS = 2000;

export async function render(main, params) {
    let job = await get(`/jobs/${encodeURIComponent(params.id)}`);
    const controller = new AbortController();
    let access = await readAccess();
    const projects = await projectNames();

    const errorLine = h("p", { class: "error", role: "alert", "aria-live": "assertive" });
    const title = h("h1", {});
    const controls = h("div", { class: "row job-controls" });
    const facts = h("section", { class: "panel" });
    const attempts = h("div");
    const liveStatus = h("span", { class: "muted live-status", "aria-live": "polite" });
    const log = logView(`Output of job ${job.id}`, "(no output yet)");

    const row = (label, ...value) => h("tr", {}, h("td", {}, label), h("td", {}, ...value));
    function drawJob() {
        const project = projects.get(job.project_id);
        title.replaceChildren(`Job ${job.id}: ${job.name} `, badge(job.status));
        controls.replaceChildren(...jobButtons(job, access, {
            onDone: (changed) => {
                if (changed) job = changed;
                drawJob();
                quietly(refresh().then(schedule));
            },
            onError: (text) => {
                errorLine.textContent = text;
            },
        }).filter(Boolean));
        facts.replaceChildren(h("table", { class: "kv", "aria-label": `Job ${job.id}` }, h("tbody", {},
            row("Status", badge(job.status), job.cancel_requested && job.status === "running" ? " cancel requested: waiting for the worker to stop it" : ""),
            row("Command", h("code", {}, commandText(job.argv))),
            job.workdir ? row("Working directory", h("code", {}, job.workdir)) : null,
            Object.keys(job.env ?? {}).length ? row("Environment", h("code", {}, Object.keys(job.env).sort().join(", "))) : null,
            row("Project", project ? h("a", { href: urls.project(project.namespace, project.slug) }, project.name) : String(job.project_id)),
            row("Run", h("a", { href: urls.runByID(job.run_id) }, job.run_id)),
            row("Needs", requirementsText(job)),
            row("Priority", String(job.priority)),
            row("Attempts", `${job.attempts_used} of ${job.max_attempts}`),
            job.timeout_seconds ? row("Timeout", formatElapsed(job.timeout_seconds)) : null,
            row("Submitted", when(job.created_at), job.submitted_by ? ` by ${job.submitted_by}` : ""),
            row("Started", when(job.started_at)),
            row("Ended", when(job.ended_at)),
            row("Elapsed", h("span", { dataset: job.ended_at ? {} : { since: job.started_at ?? "" } }, formatElapsed(elapsedSeconds(job.started_at, job.ended_at)))),
            row("Exit", exitText(job)),
            job.reason ? row("Reason", job.reason) : null,
        )));
        attempts.replaceChildren((job.attempts ?? []).length === 0
            ? message(job.status === "queued" ? "No attempt yet: the job waits for a worker that can run it." : "No attempt: it never started.")
            : h("table", { "aria-label": `Attempts of job ${job.id}`, class: "attempts" },
                h("thead", {}, h("tr", {}, ["#", "Worker", "GPUs", "Started", "Ended", "Took", "Outcome", "Exit", "Reason"].map((t) => h("th", { scope: "col" }, t)))),
                h("tbody", {}, job.attempts.map((a) => h("tr", { dataset: { attempt: a.number } },
                    h("td", { class: "num" }, String(a.number)),
                    h("td", {}, h("a", { href: urls.devices() }, a.worker)),
                    h("td", {}, a.gpus?.length ? a.gpus.join(", ") : "—"),
                    h("td", {}, when(a.started_at)),
                    h("td", {}, when(a.ended_at)),
                    h("td", { class: "num" }, h("span", { dataset: a.ended_at ? {} : { since: a.started_at } }, formatElapsed(elapsedSeconds(a.started_at, a.ended_at)))),
                    h("td", {}, a.outcome ? badge(a.outcome) : badge("running")),
                    h("td", {}, exitText(a)),
                    h("td", {}, a.reason ?? ""))))));
        main.dataset.jobStatus = job.status;
    }

    async function drawLog() {
        let page;
        try {
            page = await get(`/runs/${encodeURIComponent(job.run_id)}/logs`, log.parameters(), { signal: controller.signal });
        } catch (error) {
            // The run is made when the job first starts (or at submission): before that there is no log.
            if (error instanceof ApiError && error.status === 404) return;
            throw error;
        }
        log.show(page);
    }

    const active = () => ["queued", "running", "lost"].includes(job.status);
    let stream = null;
    let streaming = false;
    const setLive = (mode) => {
        main.dataset.live = mode;
        liveStatus.textContent = { live: "(live)", polling: "(refreshing every few seconds)" }[mode] ?? "";
    };
    function followOutput() {
        if (streaming || job.status !== "running") return;
        streaming = true;
        stream = follow(`/runs/${encodeURIComponent(job.run_id)}/events`, {
            state: (s) => {
                if (log.next === null || log.next < s.logs) quietly(drawLog());
            },
            logs: (event) => {
                if (log.next !== null) log.show(event);
            },
            end: () => quietly(drawLog()),
        }, { fallback: () => setLive("polling"), onStatus: setLive });
    }
    const quietly = (promise) => promise.catch((error) => {
        if (error.name !== "AbortError") console.warn(error.message);
    });

    // The job is read again every REFRESH_MS while it is queued or running (a job's status and attempts have no
    // stream), and its log with it unless the run's stream is live (job output wakes it at once); both merge
    // only lines the view lacks.
    let timer = 0;
    // One read at a time; a read asked for while one runs (after a button's action) runs once more after it,
    // so an answer read before the action never replaces the action's result.
    const refresh = oneAtATime(async () => {
        const before = `${job.status}:${job.attempts?.length}:${job.cancel_requested}`;
        job = await get(`/jobs/${encodeURIComponent(job.id)}`, undefined, { signal: controller.signal });
        if (`${job.status}:${job.attempts?.length}:${job.cancel_requested}` !== before) drawJob();
        if (main.dataset.live !== "live" || !active()) await drawLog();
        followOutput();
        if (!active() && streaming) {
            stream?.close();
            streaming = false;
            setLive("ended");
        }
    }, controller.signal);
    const tick = async () => {
        timer = 0;
        try {
            await refresh();
        } catch (error) {
            if (error.name === "AbortError") return;
            errorLine.textContent = error.message;
        }
        schedule();
    };
    function schedule() {
        if (!timer && !controller.signal.aborted && active()) timer = setTimeout(tick, REFRESH_MS);
    }
    const ticker = setInterval(() => {
        for (const span of main.querySelectorAll("[data-since]")) {
            if (span.dataset.since) span.textContent = formatElapsed(elapsedSeconds(span.dataset.since, null));
        }
    }, 1000);
    const onSession = async () => {
        access = await readAccess();
        drawJob();
    };
    window.addEventListener("quill:session", onSession);

    drawJob();
    main.replaceChildren(
        h("div", { class: "crumbs" }, h("a", { href: urls.jobs() }, "Jobs"), " / ", `job ${job.id}`),
        title, controls, errorLine, facts,
        h("h2", {}, "Attempts"), attempts,
        h("h2", {}, "Output ", liveStatus), log.element,
    );
    await drawLog();
    followOutput();
    schedule();
    return () => {
        controller.abort();
        clearTimeout(timer);
        clearInterval(ticker);
        stream?.close();
        window.removeEventListener("quill:session", onSession);
        delete main.dataset.jobStatus;
        delete main.dataset.live;
    };
}
