// A run's output log as the run and job pages show it: the last 2,000 lines first, then only what was
// appended since (after=next), from log reads and from the live stream's `logs` events alike. It stays at
// the bottom while the reader is there, and leaves the reader alone when they scrolled up.

import { h } from "../dom.js";
import { newLogLines } from "../live-model.js";

/**
 * A followed log in a `<pre>`.
 * @param {string} label the accessible name of the log
 * @param {string} empty what the log says while it has no line
 */
export function logView(label, empty) {
    const element = h("pre", { class: "log", tabindex: "0", "aria-label": label }, empty);
    let next = null;
    const atEnd = () => element.scrollTop + element.clientHeight >= element.scrollHeight - 4;
    const joined = (lines) => lines.map((l) => l.message).join("\n");
    return {
        element,
        /** The position after the last line shown; `null` before the first read. */
        get next() { return next; },
        /** The query of the next log read. */
        parameters() { return next === null ? { tail: 2000, limit: 2000 } : { after: next, limit: 10000 }; },
        /** Shows a page read with `parameters()`, or the lines of a page or `logs` event not shown yet. */
        show(page) {
            const follow = atEnd();
            if (next === null) {
                const text = joined(page.logs);
                if (page.logs.length) {
                    element.textContent = page.total > page.logs.length ? `(the last ${page.logs.length} of ${page.total} lines)\n${text}` : text;
                }
                next = page.next;
                element.scrollTop = element.scrollHeight;
                return;
            }
            const { lines, next: after } = newLogLines(page, next);
            next = after;
            if (lines.length === 0) return;
            element.textContent = (element.textContent === empty ? "" : element.textContent + "\n") + joined(lines);
            if (follow) element.scrollTop = element.scrollHeight;
        },
    };
}
