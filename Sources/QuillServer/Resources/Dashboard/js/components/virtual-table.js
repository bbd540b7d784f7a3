// A table that renders only the rows in view, so 10,000 runs scroll as smoothly as 10. Rows have one fixed
// height; spacer rows above and below stand for the rows not rendered, so the scroll bar stays true.

import { h } from "../dom.js";

export class VirtualTable {
    /**
     * @param {object} options `label` (accessible name), `columns` ([{ key, title, width, numeric,
     *   sortable, cell(row) → Node|string }]), `rowHeight` (px), `onSort(column)`, `sort` ({ key, descending })
     */
    constructor(options) {
        this.options = { rowHeight: 29, ...options };
        this.rows = [];
        this.element = h("div", { class: "vscroll", tabindex: "0", role: "region", "aria-label": options.label });
        this.table = h("table", { "aria-label": options.label, "aria-rowcount": "0" });
        this.colgroup = h("colgroup");
        this.head = h("thead");
        this.body = h("tbody");
        this.table.append(this.colgroup, this.head, this.body);
        this.element.append(this.table);
        this.frame = 0;
        this.element.addEventListener("scroll", () => this.schedule(), { passive: true });
        this.resizeObserver = new ResizeObserver(() => this.schedule());
        this.resizeObserver.observe(this.element);
        this.renderHead();
    }

    /** Replaces the columns (and the header). */
    setColumns(columns, sort) {
        this.options.columns = columns;
        if (sort !== undefined) this.options.sort = sort;
        this.renderHead();
        this.renderRows(true);
    }

    /** Replaces the rows; keeps the scroll position. */
    setRows(rows) {
        this.rows = rows;
        this.table.setAttribute("aria-rowcount", String(rows.length + 1));
        this.renderRows(true);
    }

    destroy() {
        this.resizeObserver.disconnect();
        cancelAnimationFrame(this.frame);
    }

    schedule() {
        if (this.frame) return;
        this.frame = requestAnimationFrame(() => {
            this.frame = 0;
            this.renderRows(false);
        });
    }

    renderHead() {
        const { columns, sort } = this.options;
        this.colgroup.replaceChildren(...columns.map((c) => h("col", { style: c.width ? `width:${c.width}px` : null })));
        this.head.replaceChildren(h("tr", { "aria-rowindex": "1" }, columns.map((c) => {
            const sorted = sort && sort.key === c.key;
            const label = c.title + (sorted ? (sort.descending ? " ▼" : " ▲") : "");
            const content = c.sortable === false || !this.options.onSort ? c.title
                : h("button", { class: "sort", type: "button", onclick: () => this.options.onSort(c) }, label);
            return h("th", {
                class: c.numeric ? "num" : null,
                scope: "col",
                "aria-sort": sorted ? (sort.descending ? "descending" : "ascending") : null,
            }, content);
        })));
    }

    renderRows(force) {
        const height = this.options.rowHeight;
        const top = this.element.scrollTop;
        const view = this.element.clientHeight || 600;
        const first = Math.max(0, Math.floor(top / height) - 10);
        const last = Math.min(this.rows.length, Math.ceil((top + view) / height) + 10);
        if (!force && first === this.first && last === this.last) return;
        this.first = first;
        this.last = last;
        const columns = this.options.columns;
        const rendered = [];
        rendered.push(h("tr", { "aria-hidden": "true", style: `height:${first * height}px` }));
        for (let i = first; i < last; i++) {
            const row = this.rows[i];
            rendered.push(h("tr", { "aria-rowindex": String(i + 2), style: `height:${height}px`, dataset: { key: row.key ?? "" } },
                columns.map((c) => h("td", { class: c.numeric ? "num" : null }, c.cell(row)))));
        }
        rendered.push(h("tr", { "aria-hidden": "true", style: `height:${(this.rows.length - last) * height}px` }));
        this.body.replaceChildren(...rendered);
    }
}
