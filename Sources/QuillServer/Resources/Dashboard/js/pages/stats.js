// Statistics over the projects the caller may read: runs by status, runs started per day (the last 90
// days, as bars), and the storage metrics and artifacts use.

import { get } from "../api.js";
import { badge, bytes, h, svg } from "../dom.js";



/** Every day from `first` to `last` (YYYY-MM-DD, UTC) with its count, zero where `days` has none. */
export function fillDays(days, first, last) {
    const counts = new Map(days.map((d) => [d.day, d.runs]));
    const out = [];
    for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += 86_400_000) {
        const day = new Date(t).toISOString().slice(0, 10);
        out.push({ day, runs: counts.get(day) ?? 0 });
    }
    return out;
}

function bars(days) {
    const width = 900;
    const height = 160;
    const top = 10;
    const bottom = 24;
    const most = Math.max(1, ...days.map((d) => d.runs));
    const step = width / Math.max(1, days.length);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", class: "bars",
        "aria-label": `Runs started per day, ${days[0]?.day ?? ""} to ${days[days.length - 1]?.day ?? ""}` });
    days.forEach((d, i) => {
        const barHeight = ((height - top - bottom) * d.runs) / most;
        chart.append(svg("rect", { x: i * step + 1, y: height - bottom - barHeight, width: Math.max(1, step - 2), height: barHeight, "data-day": d.day },
            svg("title", {}, `${d.day}: ${d.runs} run${d.runs === 1 ? "" : "s"}`)));
        if (i % Math.ceil(days.length / 8) === 0) {
            chart.append(svg("text", { x: i * step + step / 2, y: height - 6, "text-anchor": "middle" }, d.day.slice(5)));
        }
    });
    chart.append(svg("text", { x: 2, y: top + 2, "dominant-baseline": "hanging" }, `${most}`));
    return chart;
}

export async function render(main) {
    const stats = await get("/stats", { days: 90 });
    const today = new Date().toISOString().slice(0, 10);
    const first = new Date(Date.now() - 89 * 86_400_000).toISOString().slice(0, 10);
    const total = Object.values(stats.runs_by_status).reduce((a, b) => a + b, 0);
    main.replaceChildren(
        h("h1", {}, "Statistics"),
        h("div", { class: "grid stats" },
            h("section", { class: "panel" }, h("h2", {}, "Runs"),
                h("p", { class: "big" }, String(total), h("span", { class: "muted" }, ` in ${stats.projects} project${stats.projects === 1 ? "" : "s"}`)),
                h("table", { "aria-label": "Runs by status" }, h("tbody", {}, Object.entries(stats.runs_by_status).sort().map(([status, n]) =>
                    h("tr", { dataset: { status } }, h("td", {}, badge(status)), h("td", { class: "num" }, String(n))))))),
            h("section", { class: "panel" }, h("h2", {}, "Storage"),
                h("table", { class: "kv", "aria-label": "Storage" }, h("tbody", {},
                    h("tr", {}, h("td", {}, "Metric points"), h("td", { class: "num", dataset: { value: stats.metric_points } }, stats.metric_points.toLocaleString())),
                    h("tr", {}, h("td", {}, "Metric series"), h("td", { class: "num" }, stats.metric_series.toLocaleString())),
                    h("tr", {}, h("td", {}, "Artifact files"), h("td", { class: "num" }, stats.artifact_files.toLocaleString())),
                    h("tr", {}, h("td", {}, "Artifact bytes"), h("td", { class: "num" }, bytes(stats.artifact_bytes))))))),
        h("h2", {}, "Runs started per day (UTC, last 90 days)"),
        h("div", { class: "panel" }, bars(fillDays(stats.runs_per_day, first, today))),
    );
    return undefined;
}
