// A project's runs: a sortable, filterable table of every run (virtual scrolling), columns picked from
// config, params, summary and metrics, nested runs under their parent, and a selection to compare.
// The page's state (q, sort, columns, selected runs) lives in the URL, so a link shows what the sender saw.

import { allRuns, ApiError, get } from "../api.js";
import { navigate, setState } from "../app.js";
import { VirtualTable } from "../components/virtual-table.js";
import { badge, h, markDrawn, message, show, when } from "../dom.js";
import { availableFields, fieldValue, nest, prepare } from "../runs-model.js";
import { formatDuration } from "../chart/ticks.js";
import { urls } from "../url.js";

const BUILT_IN = [
    { key: "status", title: "Status", width: 100, cell: (r) => badge(r.status) },
    { key: "name", title: "Name", width: 220, cell: (r) => nameCell(r) },
    { key: "kind", title: "Kind", width: 90, cell: (r) => r.kind },
    { key: "user", title: "User", width: 100, cell: (r) => r.user ?? "" },
    { key: "host", title: "Host", width: 120, cell: (r) => r.host ?? "" },
    { key: "created", title: "Started", width: 180, cell: (r) => when(r.started_at) },
    { key: "duration", title: "Duration", width: 90, numeric: true, cell: (r) => (r.duration_seconds == null ? "—" : formatDuration(r.duration_seconds)) },
    { key: "tags", title: "Tags", width: 160, sortable: false, cell: (r) => Object.entries(r.tags ?? {}).map(([k, v]) => h("span", { class: "tag" }, v ? `${k}=${v}` : k)) },
];

let page = null;

function nameCell(run) {
    return h("span", { style: `padding-left:${(run.depth ?? 0) * 16}px` },
        run.depth ? "↳ " : "",
        h("a", { href: urls.run(page.namespace, page.slug, run.id) }, run.name || run.id));
}

function sortText(sort) {
    return sort ? (sort.descending ? "-" : "") + sort.key : "";
}

function parseSort(text) {
    if (!text) return null;
    const descending = text.startsWith("-");
    return { key: descending ? text.slice(1) : text, descending };
}

export async function render(main, { namespace, slug }, query) {
    const project = await get(`/projects/${encodeURIComponent(namespace)}/${encodeURIComponent(slug)}`);
    const state = {
        q: query.get("q") ?? "",
        sort: parseSort(query.get("sort")),
        columns: (query.get("columns") ?? "").split(",").filter(Boolean),
        selected: new Set((query.get("runs") ?? "").split(",").filter(Boolean)),
    };
    page = { namespace, slug, state };
    const controller = new AbortController();
    let runs = [];

    const select = (run, selected) => {
        if (selected) state.selected.add(run.id);
        else state.selected.delete(run.id);
        setState({ runs: [...state.selected] });
        updateCompare();
    };
    const selectColumn = {
        key: "select", title: "", hiddenTitle: "Select for comparing", width: 40, sortable: false,
        cell: (r) => h("input", {
            type: "checkbox", "aria-label": `select ${r.name || r.id}`, checked: state.selected.has(r.id),
            onchange: (event) => select(r, event.target.checked),
        }),
    };
    const columns = () => [selectColumn, ...BUILT_IN, ...state.columns.map((field) => ({
        key: field, title: field.replace(/^(params|summary|metrics)\./, ""), width: 120, numeric: true,
        cell: (r) => show(fieldValue(r, field)),
    }))];
    const onSort = (column) => {
        const current = state.sort;
        state.sort = current && current.key === column.key ? (current.descending ? null : { key: column.key, descending: true }) : { key: column.key, descending: false };
        setState({ sort: sortText(state.sort) });
        table.setColumns(columns(), state.sort);
        load();
    };
    const table = new VirtualTable({
        label: `Runs of ${project.name}`, columns: columns(), sort: state.sort, onSort,
        // Keyboard: Enter opens the active run, Space selects it for comparing.
        onOpen: (r) => navigate(urls.run(namespace, slug, r.id)),
        onToggle: (r) => select(r, !state.selected.has(r.id)),
        isSelected: (r) => state.selected.has(r.id),
    });

    const filter = h("input", {
        class: "query", type: "search", value: state.q, "aria-label": "Filter runs (query language)",
        placeholder: "params.lr = 0.01 and metrics.loss < 0.5", spellcheck: "false",
    });
    const filterError = h("div", { class: "field-error", "aria-live": "polite" });
    const status = h("span", { class: "muted", "aria-live": "polite" });
    const compare = h("a", { class: "button" });
    const picker = h("select", { "aria-label": "Add a column" });
    const updateCompare = () => {
        const ids = [...state.selected];
        compare.textContent = `Compare ${ids.length} run${ids.length === 1 ? "" : "s"}`;
        compare.href = urls.compare(namespace, slug, ids);
        compare.hidden = ids.length < 2;
    };
    const updatePicker = () => {
        const fields = availableFields(runs).filter((f) => !state.columns.includes(f));
        picker.replaceChildren(h("option", { value: "" }, "+ column"), fields.map((f) => h("option", { value: f }, f)));
    };
    picker.addEventListener("change", () => {
        if (!picker.value) return;
        state.columns.push(picker.value);
        setState({ columns: state.columns });
        table.setColumns(columns(), state.sort);
        updatePicker();
    });
    let timer = 0;
    filter.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
            state.q = filter.value.trim();
            setState({ q: state.q });
            load();
        }, 120);
    });

    let loading = null;
    async function load() {
        loading?.abort();
        const mine = new AbortController();
        loading = mine;
        controller.signal.addEventListener("abort", () => mine.abort());
        status.textContent = "loading…";
        try {
            let first = true;
            await allRuns({ project: `${namespace}/${slug}`, q: state.q, sort: sortText(state.sort) }, (loaded, more) => {
                if (mine.signal.aborted) return;
                if (first) markDrawn("quill:runs-page", { q: state.q, count: loaded.length });
                first = false;
                runs = loaded.map(prepare);
                table.setRows(nest(runs));
                status.textContent = `${runs.length}${more ? "+" : ""} run${runs.length === 1 ? "" : "s"}`;
            }, { signal: mine.signal, limit: 1000 });
            markDrawn("quill:runs-loaded", { q: state.q, count: runs.length });
            filterError.textContent = "";
            filter.removeAttribute("aria-invalid");
            updatePicker();
        } catch (error) {
            if (error.name === "AbortError") return;
            if (error instanceof ApiError && error.status === 400) {
                filterError.textContent = error.message;
                filter.setAttribute("aria-invalid", "true");
                status.textContent = "";
                return;
            }
            status.replaceChildren(message(error.message, "error"));
        }
    }

    main.replaceChildren(
        h("div", { class: "crumbs" }, h("a", { href: urls.projects() }, "Projects"), " / ", namespace),
        h("h1", {}, project.name, " ", h("span", { class: "muted" }, `(${project.visibility})`)),
        h("div", { class: "row" }, filter, picker, compare, status),
        filterError,
        table.element,
    );
    updateCompare();
    load();
    return () => {
        controller.abort();
        table.destroy();
    };
}
