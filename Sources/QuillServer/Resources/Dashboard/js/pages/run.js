// A run: header (status, duration, user, host, git, parent, links), config, params, summary and tags; one
// chart per metric, grouped by key prefix (train/, val/), with x by step, wall time or relative time,
// smoothing, log scale, drag-to-zoom (fetching the finer resolution of the visible range); artifacts with
// downloads; the output log. While the run is running, the page follows it live: server-sent events
// (/runs/{id}/events) bring new points to the charts and new lines to the log as they are written, and the
// page polls every few seconds instead when the stream cannot be had. State (x, smooth, log, zoom) lives in
// the URL.

import { get, histories, history } from "../api.js";
import { navigate, setState } from "../app.js";
import { LineChart } from "../chart/chart.js";
import { follow } from "../live.js";
import { appendPoints, behind, oneAtATime } from "../live-model.js";
import { logView } from "../components/log-view.js";
import { formatDuration } from "../chart/ticks.js";
import { badge, bytes, h, markDrawn, show, when } from "../dom.js";
import { flatten, groupKeys } from "../runs-model.js";
import { preview, previewKind } from "../components/preview.js";
import { urls } from "../url.js";

const POINTS = 2000;
/** A zoomed range is fetched with up to this many points: at full resolution when it holds fewer. */
const RANGE_POINTS = 20000;
const REFRESH_MS = 3000;

function keyValueTable(label, object) {
    const entries = Object.entries(flatten(object ?? {})).sort(([a], [b]) => a.localeCompare(b));
    if (entries.length === 0) return null;
    return h("section", { class: "panel" }, h("h2", {}, label),
        h("table", { class: "kv", "aria-label": label }, h("tbody", {}, entries.map(([k, v]) => h("tr", {}, h("td", { class: "mono" }, k), h("td", { class: "mono" }, show(v)))))));
}

function xValues(series, kind, start) {
    if (kind === "time") return series.time;
    if (kind === "relative") return series.time.map((t) => (t - start) / 1000);
    return series.step;
}

export async function render(main, params, query) {
    const run = await get(`/runs/${encodeURIComponent(params.id)}`);
    const [namespace, slug] = (run.project_path ?? "").split("/");
    if (!params.namespace || params.namespace !== namespace || params.slug !== slug) {
        navigate(urls.run(namespace, slug, run.id, Object.fromEntries(query)), { replace: true });
        return undefined;
    }
    const state = {
        x: ["step", "time", "relative"].includes(query.get("x")) ? query.get("x") : "step",
        smooth: Math.max(0, Math.min(0.99, Number(query.get("smooth")) || 0)),
        log: query.get("log") === "1",
        zoom: (query.get("zoom") ?? "").split(",").map(Number).filter(Number.isFinite),
    };
    const start = Date.parse(run.started_at);
    const charts = new Map(); // key → { chart, series }
    const controller = new AbortController();

    // Nested runs: the query language's parent field, within the project.
    const children = (await get("/runs", { project: `${namespace}/${slug}`, q: `parent = "${run.id}"`, limit: 100 })).runs;
    const header = h("section", { class: "panel" });
    const renderHeader = (r) => {
        const git = r.git ?? {};
        header.replaceChildren(h("table", { class: "kv", "aria-label": "Run" }, h("tbody", {},
            h("tr", {}, h("td", {}, "Status"), h("td", {}, badge(r.status))),
            h("tr", {}, h("td", {}, "Id"), h("td", { class: "mono" }, r.id)),
            h("tr", {}, h("td", {}, "Kind"), h("td", {}, r.kind)),
            h("tr", {}, h("td", {}, "Started"), h("td", {}, when(r.started_at))),
            h("tr", {}, h("td", {}, "Duration"), h("td", {}, r.duration_seconds == null ? (r.status === "queued" ? "queued" : "running") : formatDuration(r.duration_seconds))),
            r.user || r.host ? h("tr", {}, h("td", {}, "User@host"), h("td", {}, `${r.user ?? ""}@${r.host ?? ""}`)) : null,
            git.commit ? h("tr", {}, h("td", {}, "Git"), h("td", { class: "mono" }, `${String(git.commit).slice(0, 12)}${git.dirty ? " (dirty)" : ""}${git.branch ? ` on ${git.branch}` : ""}`)) : null,
            r.environment?.command ? h("tr", {}, h("td", {}, "Command"), h("td", { class: "mono" }, show(r.environment.command))) : null,
            r.parent ? h("tr", {}, h("td", {}, "Parent"), h("td", {}, h("a", { href: urls.runByID(r.parent) }, r.parent))) : null,
            r.tags?.["quill.job"] ? h("tr", {}, h("td", {}, "Job"), h("td", {}, h("a", { href: urls.job(r.tags["quill.job"]) }, `job ${r.tags["quill.job"]}`))) : null,
            children.length ? h("tr", {}, h("td", {}, "Children"), h("td", { class: "children" }, children.map((c, i) => [
                i ? ", " : "", h("a", { href: urls.run(namespace, slug, c.id) }, c.name || c.id), " ", badge(c.status),
            ]))) : null,
            r.description ? h("tr", {}, h("td", {}, "Description"), h("td", {}, r.description)) : null,
            (r.links ?? []).length ? h("tr", {}, h("td", {}, "Links"), h("td", {}, r.links.map((l) => h("div", {}, h("a", { href: l.url, rel: "noopener noreferrer" }, l.label), " ", h("span", { class: "muted" }, when(l.created_at)))))) : null,
            Object.keys(r.tags ?? {}).length ? h("tr", {}, h("td", {}, "Tags"), h("td", {}, Object.entries(r.tags).map(([k, v]) => h("span", { class: "tag" }, v ? `${k}=${v}` : k)))) : null,
        )));
    };
    renderHeader(run);

    const xSelect = h("select", { "aria-label": "x axis" },
        [["step", "Step"], ["time", "Wall time"], ["relative", "Relative time"]].map(([v, t]) => h("option", { value: v, selected: v === state.x }, t)));
    const smoothInput = h("input", { type: "range", min: "0", max: "0.99", step: "0.01", value: String(state.smooth), "aria-label": "Smoothing" });
    const smoothLabel = h("span", { class: "mono" }, state.smooth.toFixed(2));
    const logInput = h("input", { type: "checkbox", checked: state.log, "aria-label": "Log scale" });
    const chartArea = h("div");

    async function loadSeries(key, range) {
        const options = { maxPoints: range ? RANGE_POINTS : POINTS, signal: controller.signal };
        if (range && state.x === "step") {
            options.from = Math.floor(range[0]);
            options.to = Math.ceil(range[1]);
        }
        return history(run.id, key, options);
    }

    function toChartSeries(key, series) {
        return [{ name: key, x: xValues(series, state.x, start), y: series.value }];
    }

    /** The overview outside the zoomed step range and the finer detail inside it, as one series. */
    function spliced(overview, detail, range) {
        const keep = (s, inside) => {
            const picked = [];
            for (let i = 0; i < s.step.length; i++) {
                const within = s.step[i] >= range[0] && s.step[i] <= range[1];
                if (within === inside) picked.push(i);
            }
            return picked;
        };
        const before = keep(overview, false).filter((i) => overview.step[i] < range[0]);
        const after = keep(overview, false).filter((i) => overview.step[i] > range[1]);
        const parts = [[overview, before], [detail, keep(detail, true)], [overview, after]];
        const count = parts.reduce((n, [, picked]) => n + picked.length, 0);
        const out = { key: overview.key, total: overview.total, downsampled: true };
        for (const field of ["index", "step", "time", "value"]) {
            const array = new Float64Array(count);
            let k = 0;
            for (const [s, picked] of parts) for (const i of picked) array[k++] = s[field][i];
            out[field] = array;
        }
        return out;
    }

    async function drawCharts(r) {
        const keys = Object.keys(r.metrics ?? {});
        if (keys.length === 0) {
            chartArea.replaceChildren(h("p", { class: "muted" }, "No metrics logged yet."));
            return;
        }
        if (charts.size === 0) {
            chartArea.replaceChildren(...groupKeys(keys).map(([group, groupKeys]) => h("section", {},
                h("h2", {}, group === "system" ? "System (CPU, memory, GPU)" : group ? `${group}/` : "Metrics"),
                h("div", { class: "grid" }, groupKeys.map((key) => {
                    const card = h("div", { class: "panel chart-card", dataset: { metric: key } }, h("h3", {}, key));
                    const chart = new LineChart(card, {
                        label: `${key} by ${state.x}`,
                        xKind: state.x === "time" ? "time" : state.x === "relative" ? "duration" : "number",
                        logY: state.log,
                        smoothing: state.smooth,
                        onZoom: (range) => zoomed(key, range),
                    });
                    charts.set(key, { chart, card });
                    card.quillChart = chart; // for benchmarks and tests
                    return card;
                })))));
        }
        // Every chart's overview in one request (at most 50 keys a request).
        const overviews = [];
        for (let i = 0; i < keys.length; i += 50) {
            overviews.push(...await histories(run.id, keys.slice(i, i + 50), { maxPoints: POINTS, signal: controller.signal }));
        }
        await Promise.all(keys.map(async (key, i) => {
            const entry = charts.get(key);
            if (!entry) return;
            entry.overview = overviews[i];
            entry.card.dataset.total = String(entry.overview.total);
            await showRange(entry, state.zoom.length === 2 ? state.zoom : null);
        }));
    }

    /**
     * Shows `range` (or everything) on one chart: when the overview is downsampled and the x axis is the
     * step, the range's points are fetched at the finer resolution and spliced into the overview.
     */
    async function showRange(entry, range) {
        const generation = (entry.generation = (entry.generation ?? 0) + 1);
        let series = entry.overview;
        if (range && state.x === "step" && entry.overview.downsampled) {
            const detail = await loadSeries(entry.overview.key, range);
            if (generation !== entry.generation) return;
            series = spliced(entry.overview, detail, range);
        }
        entry.series = series;
        entry.card.dataset.points = String(series.value.length);
        entry.chart.setSeries(toChartSeries(entry.overview.key, series));
        entry.chart.setZoom(range);
    }

    async function zoomed(key, range) {
        state.zoom = range ?? [];
        setState({ zoom: range ? range.map((v) => Number(v.toPrecision(8))) : null });
        // Every chart shows the same x range; finer data for it where the overview is downsampled.
        await Promise.all([...charts.values()].filter((entry) => entry.overview).map((entry) => showRange(entry, range)));
        await markDrawn("quill:zoom-drawn", { key, range });
    }

    xSelect.addEventListener("change", () => {
        state.x = xSelect.value;
        state.zoom = [];
        setState({ x: state.x === "step" ? null : state.x, zoom: null });
        for (const { chart } of charts.values()) chart.destroy();
        charts.clear();
        drawCharts(run);
    });
    smoothInput.addEventListener("input", () => {
        state.smooth = Number(smoothInput.value);
        smoothLabel.textContent = state.smooth.toFixed(2);
        setState({ smooth: state.smooth || null });
        for (const { chart } of charts.values()) chart.setSmoothing(state.smooth);
    });
    logInput.addEventListener("change", () => {
        state.log = logInput.checked;
        setState({ log: state.log ? 1 : null });
        for (const { chart } of charts.values()) chart.setLogY(state.log);
    });

    const artifactArea = h("section");
    async function drawArtifacts() {
        const { artifacts } = await get(`/runs/${encodeURIComponent(run.id)}/artifacts`);
        if (artifacts.length === 0) {
            artifactArea.replaceChildren();
            return;
        }
        const shown = h("div", { class: "artifact-preview", "aria-live": "polite" });
        const open = async (artifact) => {
            shown.replaceChildren(h("h3", { class: "mono" }, artifact.path), h("p", { class: "muted" }, "Loading…"));
            try {
                shown.replaceChildren(h("h3", { class: "mono" }, artifact.path), await preview(artifact));
            } catch (error) {
                shown.replaceChildren(h("p", { class: "error" }, error.message));
            }
        };
        artifactArea.replaceChildren(h("h2", {}, "Artifacts"), h("table", { "aria-label": "Artifacts" },
            h("thead", {}, h("tr", {}, h("th", {}, "Path"), h("th", { class: "num" }, "Size"), h("th", {}, "Status"), h("th", {}, "Logged"), h("th", {}, ""))),
            h("tbody", {}, artifacts.map((a) => h("tr", { dataset: { artifact: a.path } },
                h("td", { class: "mono" }, a.status === "uploaded" ? h("a", { href: a.download_url, download: a.file_name }, a.path) : a.path),
                h("td", { class: "num" }, bytes(a.size)),
                h("td", {}, a.status),
                h("td", {}, when(a.logged_at)),
                h("td", {}, a.status === "uploaded" && previewKind(a.path)
                    ? h("button", { type: "button", class: "preview-button", onclick: () => open(a) }, "Preview") : ""))))), shown);
    }

    const log = logView("Output log", "(no output)");

    async function drawLog() {
        // Only lines not shown yet: the live stream may have brought some of these already.
        log.show(await get(`/runs/${encodeURIComponent(run.id)}/logs`, log.parameters()));
    }

    const title = h("h1", {}, run.name || run.id, " ", badge(run.status));
    const tables = h("div", { class: "grid" });
    const renderTables = (r) => tables.replaceChildren(...[keyValueTable("Config", r.config), keyValueTable("Params", r.params), keyValueTable("Summary", r.summary)].filter(Boolean));
    renderTables(run);
    const liveStatus = h("span", { class: "muted live-status", "aria-live": "polite" });
    main.replaceChildren(
        h("div", { class: "crumbs" }, h("a", { href: urls.projects() }, "Projects"), " / ",
            h("a", { href: urls.project(namespace, slug) }, run.project ?? slug)),
        title,
        header,
        tables,
        h("h2", {}, "Charts"),
        h("div", { class: "row" }, h("label", {}, "x ", xSelect), h("label", {}, "smoothing ", smoothInput, " ", smoothLabel), h("label", {}, logInput, " log scale")),
        chartArea,
        artifactArea,
        h("h2", {}, "Output ", liveStatus),
        log.element,
    );
    await Promise.all([drawCharts(run).then(() => markDrawn("quill:charts-drawn", charts.size)), drawArtifacts(), drawLog()]);

    // Following the run while it runs: server-sent events, or polling when the stream cannot be had.
    let timer = 0;
    let stream = null;
    let latest = run;
    const setLive = (mode) => {
        main.dataset.live = mode;
        liveStatus.textContent = { connecting: "", live: "(live)", polling: "(refreshing every few seconds)", ended: "" }[mode] ?? "";
    };
    const showRun = (r) => {
        latest = r;
        renderHeader(r);
        renderTables(r);
        title.replaceChildren(r.name || r.id, " ", badge(r.status));
    };
    // Reads everything again (the polling step, and what an event that cannot be merged asks for), one at a
    // time: a request that comes while one runs makes it run once more after.
    const refresh = oneAtATime(async () => {
        const r = await get(`/runs/${encodeURIComponent(run.id)}`, undefined, { signal: controller.signal });
        showRun(r);
        if (Object.keys(r.metrics ?? {}).some((k) => !charts.has(k))) {
            for (const { chart } of charts.values()) chart.destroy();
            charts.clear();
        }
        await Promise.all([drawCharts(r), drawLog(), drawArtifacts()]);
    }, controller.signal);
    const quietly = (promise) => promise.catch((error) => {
        if (error.name !== "AbortError") console.warn(error.message);
    });
    const redraw = (entry) => {
        entry.card.dataset.total = String(entry.overview.total);
        // A zoomed view stays as the user left it; the overview takes the points for later.
        if (state.zoom.length === 2) return;
        entry.series = entry.overview;
        entry.card.dataset.points = String(entry.overview.value.length);
        entry.chart.setSeries(toChartSeries(entry.overview.key, entry.overview));
    };
    const poll = () => {
        const step = async () => {
            try {
                await refresh();
                if (latest.status === "running" || latest.status === "queued") timer = setTimeout(step, REFRESH_MS);
                else setLive("ended");
            } catch (error) {
                if (error.name !== "AbortError") timer = setTimeout(step, REFRESH_MS * 2);
            }
        };
        timer = setTimeout(step, REFRESH_MS);
    };
    if (run.status === "running" || run.status === "queued") {
        stream = follow(`/runs/${encodeURIComponent(run.id)}/events`, {
            state: (s) => {
                const overviews = new Map([...charts].filter(([, e]) => e.overview).map(([k, e]) => [k, e.overview]));
                const lag = behind(s, overviews, log.next);
                if (lag.stale.length || lag.log || s.status !== latest.status) quietly(refresh());
            },
            metrics: (event) => {
                let reload = false;
                for (const entry of event.metrics) {
                    const chart = charts.get(entry.key);
                    if (!chart?.overview) {
                        reload = true;
                        continue;
                    }
                    const merged = appendPoints(chart.overview, entry);
                    // Not mergeable, or grown well past the overview's resolution: read it again.
                    if (!merged || merged.appended > POINTS) {
                        reload = true;
                        continue;
                    }
                    chart.overview = merged;
                    redraw(chart);
                }
                if (reload) quietly(refresh());
            },
            logs: (event) => {
                if (log.next !== null) log.show(event);
            },
            run: (r) => showRun(r),
            end: () => quietly(refresh()),
        }, { fallback: poll, onStatus: setLive });
    }
    return () => {
        clearTimeout(timer);
        stream?.close();
        controller.abort();
        for (const { chart } of charts.values()) chart.destroy();
    };
}
