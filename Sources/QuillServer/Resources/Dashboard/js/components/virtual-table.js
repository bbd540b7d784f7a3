// A table that renders only the rows in view, so 10,000 runs scroll as smoothly as 10. Rows have one fixed
// height; spacer rows above and below stand for the rows not rendered, so the scroll bar stays true.
//
// Keyboard: the table is one tab stop (a grid); arrow keys, Page Up/Down, Home and End move the active row
// (scrolled into view, outlined, announced through aria-activedescendant), Enter opens it (`onOpen`) and
// Space toggles it (`onToggle`). The links and checkboxes in the rows stay reachable with Tab.

import { h } from "../dom.js";
import { moveActive } from "./row-keys.js";

let tables = 0;

export class VirtualTable {
    /**
     * @param {object} options `label` (accessible name), `columns` ([{ key, title, width, numeric,
     *   sortable, cell(row) → Node|string }]), `rowHeight` (px), `onSort(column)`, `sort` ({ key, descending }),
     *   `onOpen(row)` (Enter on the active row), `onToggle(row)` (Space on the active row)
     */
    constructor(options) {
        this.options = { rowHeight: 29, ...options };
        this.rows = [];
        this.active = null;
        this.id = `vt${++tables}`;
        this.element = h("div", { class: "vscroll", role: "region", "aria-label": options.label });
        this.table = h("table", { "aria-label": options.label, "aria-rowcount": "0", role: "grid", tabindex: "0", "aria-readonly": "true" });
        this.colgroup = h("colgroup");
        this.head = h("thead");
        this.body = h("tbody");
        this.table.append(this.colgroup, this.head, this.body);
        this.element.append(this.table);
        this.frame = 0;
        this.element.addEventListener("scroll", () => this.schedule(), { passive: true });
        this.table.addEventListener("keydown", (event) => this.key(event));
        this.table.addEventListener("focus", (event) => {
            if (event.target === this.table && this.active === null && this.rows.length) this.setActive(this.firstVisible());
        });
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

    /** Replaces the rows; keeps the scroll position (and the active row, by key). */
    setRows(rows) {
        const activeKey = this.active === null ? null : this.rows[this.active]?.key;
        this.rows = rows;
        if (activeKey !== null) {
            const found = rows.findIndex((r) => r.key === activeKey);
            this.active = found >= 0 ? found : (rows.length ? Math.min(this.active, rows.length - 1) : null);
        }
        this.table.setAttribute("aria-rowcount", String(rows.length + 1));
        this.renderRows(true);
    }

    /** The row the keyboard is on, or null. */
    get activeRow() {
        return this.active === null ? null : this.rows[this.active] ?? null;
    }

    firstVisible() {
        return Math.min(this.rows.length - 1, Math.floor(this.element.scrollTop / this.options.rowHeight));
    }

    key(event) {
        if (event.target !== this.table || event.altKey || event.ctrlKey || event.metaKey) return;
        const row = this.activeRow;
        if (event.key === "Enter" && row) {
            event.preventDefault();
            this.options.onOpen?.(row);
            return;
        }
        if (event.key === " " && row) {
            event.preventDefault();
            this.options.onToggle?.(row);
            this.renderRows(true);
            return;
        }
        const page = Math.max(1, Math.floor((this.element.clientHeight || 600) / this.options.rowHeight) - 2);
        const next = moveActive(event.key, this.active, this.rows.length, page);
        if (next === null) return;
        event.preventDefault();
        this.setActive(next);
    }

    /** Makes row `index` active: scrolled into view (below the sticky header) and rendered outlined. */
    setActive(index) {
        this.active = index;
        const height = this.options.rowHeight;
        const header = this.head.getBoundingClientRect().height || height;
        const top = index * height;
        const view = this.element.clientHeight || 600;
        if (top < this.element.scrollTop) this.element.scrollTop = top;
        else if (top + height + header > this.element.scrollTop + view) this.element.scrollTop = top + height + header - view;
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
            const content = !c.title ? h("span", { class: "sr-only" }, c.hiddenTitle ?? c.key)
                : c.sortable === false || !this.options.onSort ? c.title
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
            const active = i === this.active;
            rendered.push(h("tr", {
                id: `${this.id}-r${i}`, "aria-rowindex": String(i + 2), style: `height:${height}px`, dataset: { key: row.key ?? "" },
                class: active ? "active" : null, "aria-selected": this.options.isSelected ? String(Boolean(this.options.isSelected(row))) : null,
            }, columns.map((c) => h("td", { class: c.numeric ? "num" : null }, c.cell(row)))));
        }
        if (this.active !== null && this.active >= first && this.active < last) this.table.setAttribute("aria-activedescendant", `${this.id}-r${this.active}`);
        else this.table.removeAttribute("aria-activedescendant");
        rendered.push(h("tr", { "aria-hidden": "true", style: `height:${(this.rows.length - last) * height}px` }));
        this.body.replaceChildren(...rendered);
    }
}
