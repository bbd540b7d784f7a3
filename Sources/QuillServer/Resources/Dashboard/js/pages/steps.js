// Cached steps: the results under the server's steps root with the filters `quill steps` has (result
// status, last attempt's status, namespace prefix, host, user, started after/before, config KEY=VALUE),
// summary counts, and the dependency graph drawn in layers (nodes coloured by status; click to open).
// The filters live in the URL.

import { get } from "../api.js";
import { navigate } from "../app.js";
import { layeredLayout } from "../chart/graph.js";
import { bytes, h, message, svg, when } from "../dom.js";
import { graphFromListing } from "../steps-model.js";
import { urls } from "../url.js";

const RESULT_STATUSES = ["success", "failed", "incomplete", "absent"];
const ATTEMPT_STATUSES = ["queued", "running", "success", "failed", "cancelled", "preempted", "crashed"];


/** The graph as SVG: one link per node (keyboard-reachable), edges from each step to its dependencies. */
function drawGraph(graph) {
    const layout = layeredLayout(graph.nodes, graph.edges);
    const nodeWidth = 170;
    const nodeHeight = 40;
    const root = svg("svg", {
        width: layout.width + 2, height: layout.height + 2, viewBox: `-1 -1 ${layout.width + 2} ${layout.height + 2}`,
        role: "img", "aria-label": `Dependency graph: ${graph.nodes.length} steps, ${graph.edges.length} edges`, class: "step-graph",
    });
    for (const edge of graph.edges) {
        const from = layout.position.get(edge.from);
        const to = layout.position.get(edge.to);
        if (!from || !to) continue;
        const x1 = to.x + nodeWidth / 2;
        const x2 = from.x - nodeWidth / 2;
        const middle = (x1 + x2) / 2;
        root.append(svg("path", {
            d: `M${x1},${to.y} C${middle},${to.y} ${middle},${from.y} ${x2},${from.y}`, class: "edge",
            "data-from": edge.from, "data-to": edge.to,
        }));
    }
    for (const node of graph.nodes) {
        const p = layout.position.get(node.id);
        const link = svg("a", { href: urls.step(node.namespace, node.hash), "data-node": node.id, class: `node ${node.status}`,
            tabindex: "0", role: "link", "aria-label": `${node.type} ${node.hash.slice(0, 7)}, ${node.status}` },
            svg("title", {}, `${node.namespace}/${node.hash} (${node.status})`),
            svg("rect", { x: p.x - nodeWidth / 2, y: p.y - nodeHeight / 2, width: nodeWidth, height: nodeHeight, rx: 6 }),
            svg("text", { x: p.x, y: p.y - 3, "text-anchor": "middle" }, node.type.length > 22 ? `${node.type.slice(0, 21)}…` : node.type),
            svg("text", { x: p.x, y: p.y + 12, "text-anchor": "middle", class: "hash" }, node.hash.slice(0, 7)));
        link.addEventListener("click", (event) => {
            event.preventDefault();
            navigate(urls.step(node.namespace, node.hash));
        });
        // Focusable by Tab like any link; Enter opens it (SVG links do not all follow Enter by themselves).
        link.addEventListener("keydown", (event) => {
            if (event.key !== "Enter") return;
            event.preventDefault();
            navigate(urls.step(node.namespace, node.hash));
        });
        root.append(link);
    }
    return root;
}

export async function render(main, _params, query) {
    const field = (name, attributes) => h("input", { name, value: query.get(name) ?? "", ...attributes });
    const selected = (name) => new Set(query.getAll(name));
    const form = h("form", { class: "row filters", role: "search", "aria-label": "Filter step results" },
        h("fieldset", {}, h("legend", {}, "result"), RESULT_STATUSES.map((s) => h("label", {}, h("input", { type: "checkbox", name: "status", value: s, checked: selected("status").has(s) }), ` ${s}`))),
        h("label", {}, "last attempt ", h("select", { name: "attempt_status" }, h("option", { value: "" }, "any"),
            ATTEMPT_STATUSES.map((s) => h("option", { value: s, selected: query.get("attempt_status") === s }, s)))),
        h("label", {}, "namespace ", field("namespace_prefix", { placeholder: "prefix", size: 16 })),
        h("label", {}, "host ", field("host", { size: 10 })),
        h("label", {}, "user ", field("user", { size: 8 })),
        h("label", {}, "since ", field("since", { placeholder: "7d or 2026-11-24", size: 12 })),
        h("label", {}, "before ", field("before", { size: 12 })),
        h("label", {}, "config ", field("config", { placeholder: "lr=0.001", size: 14, class: "mono" })),
        h("button", { type: "submit" }, "Filter"));
    form.addEventListener("submit", (event) => {
        event.preventDefault();
        const data = new URLSearchParams();
        for (const [name, value] of new FormData(form)) if (value) data.append(name, value);
        const text = data.toString();
        navigate(text ? `/steps?${text}` : "/steps", { replace: true });
    });
    main.replaceChildren(h("h1", {}, "Cached steps"), form, message("Loading step results…"));
    const parameters = new URLSearchParams();
    for (const [name, value] of query) if (value) parameters.append(name, value);
    const response = await fetch(`/api/v1/steps?${parameters}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const body = await response.json();
    if (!response.ok) {
        main.replaceChildren(h("h1", {}, "Cached steps"), form, message(body?.error?.message ?? `HTTP ${response.status}`, "error"));
        return;
    }
    const { steps, summary } = body;
    // The listing holds every result when nothing is filtered out: its graph is the server's, without
    // scanning the steps root a second time.
    const graph = summary.count === summary.total ? graphFromListing(steps) : await get("/steps/graph");
    const counts = Object.entries(summary.by_status).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(", ");
    main.replaceChildren(
        h("h1", {}, "Cached steps"),
        form,
        h("p", { class: "muted", "aria-live": "polite" }, `${summary.count} of ${summary.total} results${counts ? `: ${counts}` : ""}; ${bytes(summary.size_bytes)}`),
        steps.length === 0 ? message(summary.total === 0 ? "No step results under this server's steps root (quill serve --steps-root)." : "No results match these filters.")
            : h("table", { "aria-label": "Step results", class: "steps" },
                h("thead", {}, h("tr", {}, ["Namespace", "Hash", "Status", "Last attempt", "Started", "Size", "Host", "User", "Config"].map((t) => h("th", { scope: "col" }, t)))),
                h("tbody", {}, steps.map((s) => h("tr", { dataset: { step: `${s.namespace}/${s.hash}` } },
                    h("td", {}, s.namespace),
                    h("td", { class: "mono" }, h("a", { href: urls.step(s.namespace, s.hash) }, s.hash.slice(0, 7))),
                    h("td", {}, h("span", { class: `badge ${s.status}` }, s.status)),
                    h("td", {}, s.attempt_status ?? "—"),
                    h("td", {}, when(s.started)),
                    h("td", { class: "num" }, bytes(s.size_bytes)),
                    h("td", {}, s.host), h("td", {}, s.user),
                    h("td", { class: "mono" }, s.swift))))),
        h("h2", {}, "Dependency graph"),
        graph.nodes.length ? h("div", { class: "panel graph" }, drawGraph(graph)) : message("No steps yet."),
    );
    return undefined;
}
