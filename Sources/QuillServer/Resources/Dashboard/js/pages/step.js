// One cached step result: metadata, config, attempts, files, the end of its log, and the steps it
// depends on and that depend on it.

import { get } from "../api.js";
import { bytes, h, show, when } from "../dom.js";
import { flatten } from "../runs-model.js";
import { urls } from "../url.js";

const reference = (text) => {
    const slash = text.lastIndexOf("/");
    return { namespace: text.slice(0, slash), hash: text.slice(slash + 1) };
};

const stepLink = (text) => {
    const { namespace, hash } = reference(text);
    return h("a", { href: urls.step(namespace, hash) }, `${namespace}/${hash.slice(0, 7)}`);
};

export async function render(main, { namespace, hash }) {
    const step = await get(`/steps/${encodeURIComponent(namespace)}/${encodeURIComponent(hash)}`, { log_lines: 200 });
    const config = Object.entries(flatten(step.config ?? {})).sort(([a], [b]) => a.localeCompare(b));
    const metadata = step.metadata ?? {};
    main.replaceChildren(
        h("div", { class: "crumbs" }, h("a", { href: urls.steps() }, "Cached steps"), " / ", step.namespace),
        h("h1", {}, step.type, " ", h("span", { class: "mono muted" }, step.hash.slice(0, 12)), " ", h("span", { class: `badge ${step.status}` }, step.status)),
        h("section", { class: "panel" }, h("table", { class: "kv", "aria-label": "Step" }, h("tbody", {},
            h("tr", {}, h("td", {}, "Swift"), h("td", { class: "mono" }, step.swift)),
            h("tr", {}, h("td", {}, "Hash"), h("td", { class: "mono" }, step.hash)),
            h("tr", {}, h("td", {}, "Started"), h("td", {}, when(step.started))),
            h("tr", {}, h("td", {}, "Size"), h("td", {}, bytes(step.size_bytes))),
            h("tr", {}, h("td", {}, "Host / user"), h("td", {}, `${step.host} / ${step.user}`)),
            metadata.command ? h("tr", {}, h("td", {}, "Command"), h("td", { class: "mono" }, show(metadata.command))) : null,
            step.locked_by ? h("tr", {}, h("td", {}, "Being computed by"), h("td", {}, step.locked_by)) : null))),
        h("h2", {}, "Config"),
        config.length ? h("table", { class: "kv", "aria-label": "Config" }, h("tbody", {}, config.map(([k, v]) => h("tr", {}, h("td", { class: "mono" }, k), h("td", { class: "mono" }, show(v)))))) : h("p", { class: "muted" }, "(none)"),
        h("h2", {}, "Attempts"),
        h("table", { "aria-label": "Attempts" },
            h("thead", {}, h("tr", {}, ["Status", "Owner", "Backend", "Started", "Ended", "Error"].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", {}, (step.attempts ?? []).map((a) => h("tr", {}, h("td", {}, a.status), h("td", {}, a.owner), h("td", {}, a.backend), h("td", {}, when(a.started_at)), h("td", {}, when(a.ended_at)), h("td", { class: "error" }, a.error ?? ""))))),
        h("h2", {}, "Dependencies"),
        (step.dependencies ?? []).length ? h("ul", { class: "dependencies" }, step.dependencies.map((d) => h("li", {}, stepLink(d)))) : h("p", { class: "muted" }, "(none)"),
        h("h2", {}, "Used by"),
        (step.dependents ?? []).length ? h("ul", { class: "dependents" }, step.dependents.map((d) => h("li", {}, stepLink(d)))) : h("p", { class: "muted" }, "(none)"),
        h("h2", {}, "Files"),
        h("table", { "aria-label": "Files" }, h("tbody", {}, (step.files ?? []).map((f) => h("tr", {}, h("td", { class: "mono" }, f.path), h("td", { class: "num" }, bytes(f.bytes)))))),
        h("h2", {}, "Log"),
        h("pre", { class: "log", tabindex: "0", "aria-label": "Log" }, (step.log_tail ?? []).join("\n") || "(empty)"),
    );
    return undefined;
}
