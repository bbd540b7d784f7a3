// Compare: the selected runs' metrics overlaid per key (one colour per run, with a legend), their config
// and params side by side with the differing rows marked, and parallel coordinates of chosen params
// against a chosen metric. State (runs, only-differing, axes, colour metric) lives in the URL.

import { get, history } from "../api.js";
import { setState } from "../app.js";
import { LineChart, seriesColor } from "../chart/chart.js";
import { drawParallel, parallelAxes } from "../chart/parallel.js";
import { badge, h, markDrawn, show } from "../dom.js";
import { differingKeys, fieldValue, groupKeys, prepare } from "../runs-model.js";
import { urls } from "../url.js";

const POINTS = 1000;

export async function render(main, { namespace, slug }, query) {
    const ids = (query.get("runs") ?? "").split(",").filter(Boolean).slice(0, 50);
    if (ids.length === 0) {
        main.replaceChildren(h("h1", {}, "Compare"), h("p", { class: "muted" }, "Select runs in the runs table, then press Compare."));
        return undefined;
    }
    const runs = (await Promise.all(ids.map((id) => get(`/runs/${encodeURIComponent(id)}`)))).map(prepare);
    runs.forEach((run, i) => {
        run.color = seriesColor(i);
    });
    const controller = new AbortController();
    const charts = [];
    const state = { onlyDiffering: query.get("diff") === "1" };

    const legend = h("div", { class: "row", role: "list", "aria-label": "Runs" }, runs.map((run) => h("span", { role: "listitem" },
        h("span", { class: "swatch-inline", style: `background:${run.color}` }), " ",
        h("a", { href: urls.run(namespace, slug, run.id) }, run.name || run.id), " ", badge(run.status))));

    // Params and config side by side.
    const paramRows = runs.map((run) => run.fields.params);
    const differing = new Set(differingKeys(paramRows));
    const allKeys = [...new Set(paramRows.flatMap((r) => Object.keys(r)))].sort();
    const paramTable = h("table", { class: "compare-params", "aria-label": "Params of the compared runs" });
    const drawParams = () => {
        const keys = state.onlyDiffering ? allKeys.filter((k) => differing.has(k)) : allKeys;
        paramTable.replaceChildren(
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "param"), runs.map((run) => h("th", { scope: "col", style: `color:${run.color}` }, run.name || run.id)))),
            h("tbody", {}, keys.map((key) => h("tr", { class: differing.has(key) ? "differs" : null, dataset: { key } },
                h("td", { class: "mono" }, key),
                runs.map((run) => h("td", { class: "mono" }, key in run.fields.params ? show(run.fields.params[key]) : "—"))))),
        );
    };
    const diffToggle = h("input", {
        type: "checkbox", checked: state.onlyDiffering, "aria-label": "Only params that differ",
        onchange: (event) => {
            state.onlyDiffering = event.target.checked;
            setState({ diff: state.onlyDiffering ? 1 : null });
            drawParams();
        },
    });
    drawParams();

    // Parallel coordinates: numeric or categorical params that differ, and a metric for colour.
    const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.fields.metrics)))].sort();
    const summaryKeys = [...new Set(runs.flatMap((r) => Object.keys(r.fields.summary)))].sort();
    const colorChoices = [...metricKeys.map((k) => `metrics.${k}`), ...summaryKeys.map((k) => `summary.${k}`)];
    const chosenAxes = (query.get("axes") ?? "").split(",").filter((f) => allKeys.includes(f));
    const axesFields = chosenAxes.length ? chosenAxes : allKeys.filter((k) => differing.has(k)).slice(0, 6);
    const colorField = colorChoices.includes(query.get("color")) ? query.get("color") : colorChoices[0];
    const parallelCanvas = h("canvas", { role: "img", "aria-label": "Parallel coordinates of params against a metric", style: "width:100%;height:320px" });
    const colorSelect = h("select", { "aria-label": "Metric for the last axis" }, colorChoices.map((c) => h("option", { value: c, selected: c === colorField }, c)));
    const drawParallelView = () => {
        const field = colorSelect.value;
        const rows = runs.map((run) => ({
            id: run.id,
            values: Object.fromEntries([...axesFields.map((f) => [f, run.fields.params[f]]), [field, fieldValue(run, field)]]),
        }));
        const axes = parallelAxes(rows, field ? [...axesFields, field] : axesFields);
        const style = getComputedStyle(main);
        const lines = drawParallel(parallelCanvas, rows, axes, { ink: style.getPropertyValue("--chart-ink").trim() || "#555" });
        parallelCanvas.dataset.lines = String(lines.length);
        parallelCanvas.dataset.axes = axes.map((a) => a.field).join(",");
    };
    colorSelect.addEventListener("change", () => {
        setState({ color: colorSelect.value });
        drawParallelView();
    });

    // Metrics overlaid per key.
    const chartArea = h("div");
    const drawn = [];
    const keys = metricKeys;
    chartArea.replaceChildren(...groupKeys(keys).map(([group, groupKeys]) => h("section", {},
        h("h2", {}, group ? `${group}/` : "Metrics"),
        h("div", { class: "grid" }, groupKeys.map((key) => {
            const card = h("div", { class: "panel chart-card", dataset: { metric: key } }, h("h3", {}, key));
            const chart = new LineChart(card, { label: `${key} of ${runs.length} runs` });
            charts.push(chart);
            drawn.push(Promise.all(runs.filter((run) => key in run.fields.metrics).map(async (run) => {
                const series = await history(run.id, key, { maxPoints: POINTS, signal: controller.signal });
                return { name: run.name || run.id, color: run.color, x: series.step, y: series.value };
            })).then((series) => {
                chart.setSeries(series);
                card.dataset.series = String(series.length);
            }).catch((error) => {
                if (error.name !== "AbortError") card.append(h("p", { class: "error" }, error.message));
            }));
            return card;
        })))));

    main.replaceChildren(
        h("div", { class: "crumbs" }, h("a", { href: urls.projects() }, "Projects"), " / ", h("a", { href: urls.project(namespace, slug) }, slug)),
        h("h1", {}, `Compare ${runs.length} runs`),
        legend,
        chartArea,
        h("h2", {}, "Params"),
        h("label", {}, diffToggle, ` only the ${differing.size} that differ`),
        h("div", { style: "overflow:auto" }, paramTable),
        axesFields.length ? h("section", {}, h("h2", {}, "Parallel coordinates"), h("label", {}, "colour by ", colorSelect), h("div", { class: "panel" }, parallelCanvas)) : null,
    );
    if (axesFields.length) requestAnimationFrame(drawParallelView);
    Promise.all(drawn).then(() => markDrawn("quill:compare-drawn", keys.length));
    return () => {
        controller.abort();
        for (const chart of charts) chart.destroy();
    };
}
